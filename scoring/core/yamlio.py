"""Safe YAML reading with line numbers, limits and clear errors; atomic writing.

Every mapping loaded here is a ``LineDict`` that remembers the line of each key,
so later validation errors can point at ``file:line``. Floats keep their source
text (``1.10`` stays recoverable as written) so a code typed without quotes can
be reported as such instead of silently becoming ``1.1``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from scoring.core import safeio
from scoring.core.errors import InputError, Problem, did_you_mean

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 50


class LineDict(dict):
    """A dict that remembers where it and each of its keys were written."""

    line: int | None = None
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LineList(list):
    line: int | None = None
    item_lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


class YamlFloat(float):
    """A float read from YAML, with the text it was written as."""

    raw: str = ""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~5x faster


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> YamlFloat:
    _check_digits(node)
    value = YamlFloat(yaml.SafeLoader.construct_yaml_float(loader, node))
    value.raw = node.value
    return value


#: More digits than any figure of an assessment has; Python's int() refuses above 4 300 (and slows long before).
MAX_NUMBER_DIGITS = 30


def _check_digits(node: yaml.ScalarNode) -> None:
    digits = sum(ch.isdigit() for ch in node.value)
    if digits > MAX_NUMBER_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"number too large: {digits} digits", node.start_mark)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    _check_digits(node)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    return nfc(loader.construct_scalar(node))


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:  # e.g. 2025-02-30: PyYAML raises a bare ValueError without a line
        raise yaml.constructor.ConstructorError(
            None, None, f"'{node.value}' is not a real date ({exc})", node.start_mark) from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def check_input_file(path: Path, what: str = "file") -> None:
    """Raise an InputError unless ``path`` is an existing, readable, regular file (see scoring.core.safeio)."""
    safeio.check_input_file(path, describe(what))


#: What each kind of input file is called for the clerk.
_WHAT_VI = {
    "file": "tệp", "YAML file": "tệp YAML", "criteria file": "tệp tiêu chí", "rules file": "tệp quy tắc",
    "evidence file": "tệp tài liệu kiểm chứng", "column-mapping file": "tệp ánh xạ cột",
    "dossier file": "tệp hồ sơ", "procedure catalogue": "danh mục thủ tục hành chính",
    "options file": "tệp phương án", "peers file": "tệp kết quả các đơn vị khác",
    "scenarios file": "tệp kịch bản", "appraisal file": "tệp kết quả thẩm định",
    "evidence workbook": "bảng tính tài liệu kiểm chứng", "criteria table": "bảng tiêu chí của tỉnh",
}


def describe(what: str) -> str:
    """The Vietnamese name of a kind of input file (``"evidence file"`` → ``"tệp tài liệu kiểm chứng"``)."""
    return _WHAT_VI.get(what, what)


def workbook_format_problem(path: Path, data: bytes = b"") -> Problem | None:
    """A Problem when ``path`` is a spreadsheet parindex cannot read (.xls, .ods): the fix is to save it
    as .xlsx, not as text."""
    suffix = path.suffix.lower()
    kind = {".xls": "Excel 97-2003 (.xls)", ".ods": "LibreOffice/OpenOffice (.ods)",
            ".numbers": "Apple Numbers"}.get(suffix)
    if kind is None and data.startswith(b"\xd0\xcf\x11\xe0"):
        kind = "Excel 97-2003 (.xls)"
    if kind is None and data.startswith(b"PK\x03\x04") and b"opendocument.spreadsheet" in data[:200]:
        kind = "LibreOffice/OpenOffice (.ods)"
    if kind is None:
        return None
    return Problem("workbook_format", f"tệp là bảng tính dạng {kind}; parindex chỉ đọc bảng tính Excel .xlsx "
                                      f"(a {kind} workbook; parindex reads .xlsx workbooks only)", file=str(path),
                   hint="mở tệp bằng Excel hoặc LibreOffice, chọn Lưu thành (Save As) → Excel Workbook (.xlsx), "
                        "rồi chạy lại với tệp .xlsx")


def read_text(path: Path, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """Read a UTF-8 text file (BOM allowed) or raise an InputError naming the problem."""
    name = str(path)
    what_vi = describe(what)
    data = safeio.read_input_bytes(path, what_vi, max_bytes)
    other = workbook_format_problem(Path(path), data[:4096])
    if other is not None:
        raise InputError(other)
    if not data.strip():
        raise InputError(Problem("empty_file", f"tệp rỗng ({what} is empty)", file=name,
                                 hint="điền nội dung hoặc chỉ tới đúng tệp (fill it in or point to the right file)"))
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(Problem("bad_encoding", f"{what_vi} được lưu dạng UTF-16, không phải UTF-8 (saved as UTF-16)",
                                 file=name, line=1, hint="lưu lại tệp dạng UTF-8 (save the file as UTF-8)"))
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        try:
            data.decode("utf-8-sig")
            text_like = not data.startswith((b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0")) and data.count(b"\x00") <= 16
        except UnicodeDecodeError:
            text_like = False
        if not text_like:
            raise InputError(Problem("binary_file", f"tệp không phải văn bản UTF-8 ({what} looks binary, not UTF-8 text)",
                                     file=name, hint="chỉ tới đúng tệp văn bản YAML/CSV (point to the right text file)"))
        raise InputError(Problem("nul_byte", f"dòng {line} chứa ký tự NUL (mã 0) (line {line} holds a NUL byte)",
                                 file=name, line=line,
                                 hint="xóa ký tự lạ trên dòng này, thường do sao chép từ phần mềm khác "
                                      "(delete the stray character, often left by copy-paste)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(Problem(
            "bad_encoding",
            f"byte 0x{data[exc.start]:02x} ở dòng {line} không phải UTF-8 (byte at line {line} is not valid UTF-8)",
            file=name, line=line,
            hint="lưu tệp dạng UTF-8, ví dụ chuyển từ Windows-1258/TCVN3 bằng trình soạn thảo "
                 "(save the file as UTF-8, e.g. convert from Windows-1258/TCVN3)",
        )) from None
    return nfc(text)


def _depth_and_aliases(text: str, name: str) -> None:
    depth = 0
    aliases = 0
    try:
        for event in yaml.parse(text, Loader=_BASE_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(Problem(
                        "too_deep", f"lồng nhau quá {MAX_DEPTH} cấp (nesting deeper than {MAX_DEPTH} levels)", file=name,
                        line=event.start_mark.line + 1,
                        hint="đây không phải bố cục tệp của parindex (this is not a parindex file layout)"))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise InputError(Problem(
                        "too_many_aliases", f"quá {MAX_ALIASES} bí danh YAML (more than {MAX_ALIASES} YAML aliases *name)",
                        file=name, line=event.start_mark.line + 1,
                        hint="viết thẳng giá trị thay vì lặp lại bí danh (write the values out)"))
    except yaml.YAMLError:
        return  # reported with its line by load_yaml


def load_yaml(path: Path | str, what: str = "YAML file") -> Any:
    """Load one YAML document safely; every failure is an InputError with file and line."""
    path = Path(path)
    name = str(path)
    text = read_text(path, what)
    _depth_and_aliases(text, name)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = str(exc.problem or exc)
        if "could not determine a constructor" in problem:
            found = re.search(r"'([^']+)'", problem)
            tag = found.group(1) if found else problem
            raise InputError(Problem(
                "unsafe_tag", f"không được dùng thẻ YAML '{tag}' (YAML tag '{tag}' is not allowed)",
                file=name, line=line, hint="xóa thẻ '!!'; tệp của parindex chỉ chứa dữ liệu thường "
                                           "(remove the '!!' tag; plain data only)",
            )) from None
        if "is not a real date" in problem:
            found = re.search(r"'([^']+)' is not a real date", problem)
            raise InputError(Problem("bad_date", f"'{found.group(1) if found else '?'}' không phải ngày có thật ({problem})",
                                     file=name, line=line,
                                     hint="kiểm tra ngày và tháng; ngày viết yyyy-mm-dd hoặc dd/mm/yyyy "
                                          "(check day and month)")) from None
        if problem.startswith("number too large"):
            raise InputError(Problem("number_too_large", f"số quá dài, không phải số liệu của một kỳ đánh giá "
                                                         f"({problem}; at most {MAX_NUMBER_DIGITS})",
                                     file=name, line=line, hint="kiểm tra lại số liệu trên dòng này (check the number)")) from None
        raise InputError(Problem("yaml_error", _yaml_vi(problem), file=name, line=line)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        started = exc.context_mark.line + 1 if exc.context_mark and exc.problem_mark else None
        hint = "kiểm tra thụt lề, dấu hai chấm và dấu nháy trên dòng này (check indentation, colons and quotes)"
        if started and started != line:
            hint = (f"đoạn này bắt đầu từ dòng {started}; kiểm tra thụt lề, dấu hai chấm, dấu nháy và dấu ngoặc "
                    f"(the construct started at line {started})")
        english = f"{exc.problem or 'invalid YAML'}" + (f" {exc.context}" if exc.context else "")
        raise InputError(Problem("yaml_syntax", _yaml_vi(english), file=name, line=line, hint=hint)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(Problem("yaml_syntax", _yaml_vi(str(exc)), file=name,
                                 line=mark.line + 1 if mark else None)) from None
    except RecursionError:
        raise InputError(Problem("too_deep", "cấu trúc lồng nhau quá sâu (structure nested too deeply)", file=name)) from None
    if data is None:
        raise InputError(Problem("empty_file", f"tệp không có dữ liệu ({what} holds no data)", file=name))
    return data


#: PyYAML's problems in the words of a clerk (the English stays in brackets for a developer).
_YAML_VI = (
    ("mapping values are not allowed", "dấu ':' đặt sai chỗ (thường do thiếu dấu nháy quanh giá trị có dấu ':')"),
    ("could not find expected ':'", "thiếu dấu ':' sau tên khóa"),
    ("did not find expected key", "thụt lề không khớp với dòng trên"),
    ("did not find expected ',' or '}'", "thiếu dấu ',' hoặc dấu '}' đóng nhóm {…}"),
    ("did not find expected ',' or ']'", "thiếu dấu ',' hoặc dấu ']' đóng danh sách […]"),
    ("expected <block end>", "thụt lề không khớp với dòng trên"),
    ("found character '\\t'", "dùng phím Tab để thụt lề; YAML chỉ nhận dấu cách"),
    ("that cannot start any token", "có ký tự không được đứng đầu giá trị (đặt giá trị trong dấu nháy)"),
    ("found unexpected end of stream", "tệp kết thúc khi còn dấu nháy hoặc dấu ngoặc chưa đóng"),
    ("found undefined alias", "dùng bí danh *tên chưa được khai báo"),
    ("found unknown escape character", "ký tự '\\' lạ trong chuỗi có dấu nháy kép (dùng nháy đơn)"),
    ("special characters are not allowed", "có ký tự điều khiển không được phép"),
    ("found duplicate anchor", "bí danh &tên khai báo hai lần"),
    ("duplicate key", "khóa bị lặp lại"),
    ("a mapping key must be a plain value", "tên khóa phải là một giá trị đơn"),
    ("expected a single document", "tệp có nhiều tài liệu (dấu ---); chỉ được một"),
    ("found unexpected ':'", "dấu ':' đặt sai chỗ"),
)


def _yaml_vi(english: str) -> str:
    """``english`` with a Vietnamese sentence first, when the problem is one a clerk meets."""
    for needle, vi in _YAML_VI:
        if needle in english:
            found = re.search(r"duplicate key '([^']*)'", english)
            if found:
                vi = f"khóa '{found.group(1)}' bị lặp lại"
            return f"{vi} ({english})"
    return f"lỗi cú pháp YAML ({english})"


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(_plain(data), allow_unicode=True, sort_keys=False, width=100)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, YamlFloat):
        return float(value)
    return value


def write_atomic(path: Path | str, data: str | bytes, inputs: Any = (), fmt: str | None = None) -> None:
    """Write a file so that readers see either the old or the whole new content; never an input.

    The checks and the writing are :func:`scoring.core.safeio.write_output`'s.
    """
    safeio.write_output(path, data, inputs, fmt)


def line_at(data: Any, loc: tuple[Any, ...]) -> int | None:
    """Best line for a pydantic ``loc`` path inside data loaded by ``load_yaml``."""
    line = getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part) or line
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.line_of(part) or line
            node = node[part]
        else:
            break
    return line


def pydantic_problems(exc: Any, data: Any, file: str, prefix: tuple[Any, ...] = (),
                      subject: str | None = None, known_keys: Any = (),
                      tags: Any = ()) -> list[Problem]:
    """Turn a pydantic ValidationError into Problems with file and line.

    Unknown keys get a "did you mean" suggestion from the model's own fields.
    """
    problems = []
    for err in exc.errors(include_url=False):
        own = tuple(p for p in err["loc"] if p not in tags)  # drop a discriminated union's tag
        loc = tuple(prefix) + own
        line = line_at(data, loc)
        kind = err["type"]
        field = ".".join(str(p) for p in own) or "(root)"
        hint = None
        if kind == "extra_forbidden":
            key = err["loc"][-1]
            hint = did_you_mean(str(key), known_keys)
            message = f"unknown key '{key}'"
        elif kind == "missing":
            message = f"required key '{field}' is missing"
        else:
            value = err.get("input")
            raw = getattr(value, "raw", None)
            shown = raw if raw else repr(value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            message = f"'{field}': {err['msg']} (got {shown})"
            if isinstance(value, YamlFloat) and "string" in err["msg"]:
                hint = f"YAML read {raw} as a number; write it in quotes: \"{raw}\""
        problems.append(Problem(kind, message, file=file, line=line, subject=subject, hint=hint))
    return problems

