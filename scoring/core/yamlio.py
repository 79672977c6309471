"""Safe YAML reading with line numbers, limits and clear errors; atomic writing.

Every mapping loaded here is a ``LineDict`` that remembers the line of each key,
so later validation errors can point at ``file:line``. Floats keep their source
text (``1.10`` stays recoverable as written) so a code typed without quotes can
be reported as such instead of silently becoming ``1.1``.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import yaml

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
    value = YamlFloat(yaml.SafeLoader.construct_yaml_float(loader, node))
    value.raw = node.value
    return value


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
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def check_input_file(path: Path, what: str = "file") -> None:
    """Raise an InputError unless ``path`` is an existing file."""
    name = str(path)
    if not path.exists():
        raise InputError(Problem("file_not_found", f"không tìm thấy tệp '{name}' ({what} '{name}' does not exist)", file=name,
                                 hint="kiểm tra lại đường dẫn và tên tệp (check the path and spelling)"))
    if path.is_dir():
        raise InputError(Problem("not_a_file", f"'{name}' is a folder, not a file ({what})", file=name))


def read_text(path: Path, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """Read a UTF-8 text file (BOM allowed) or raise an InputError naming the problem."""
    name = str(path)
    check_input_file(path, what)
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(Problem("file_too_large",
                                 f"{what} is {size:,} bytes; the limit is {max_bytes:,}",
                                 file=name, hint="split the file or check that it is the right one"))
    data = path.read_bytes()
    if not data.strip():
        raise InputError(Problem("empty_file", f"tệp rỗng ({what} is empty)", file=name,
                                 hint="fill it in or point to the right file"))
    if b"\x00" in data[:8192]:
        raise InputError(Problem("binary_file", f"tệp không phải văn bản UTF-8 ({what} looks binary, not UTF-8 text)", file=name,
                                 hint="save it as UTF-8 text (YAML/CSV)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(Problem(
            "bad_encoding",
            f"byte 0x{data[exc.start]:02x} at line {line} is not valid UTF-8",
            file=name, line=line,
            hint="save the file as UTF-8 (e.g. convert from Windows-1258/TCVN3 with a text editor)",
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
                        "too_deep", f"nesting deeper than {MAX_DEPTH} levels", file=name,
                        line=event.start_mark.line + 1, hint="this is not a parindex file layout"))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise InputError(Problem(
                        "too_many_aliases", f"more than {MAX_ALIASES} YAML aliases (*name)",
                        file=name, line=event.start_mark.line + 1,
                        hint="write the values out instead of repeating anchors"))
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
                "unsafe_tag", f"YAML tag '{tag}' is not allowed",
                file=name, line=line, hint="remove the '!!' tag; parindex files hold plain data only",
            )) from None
        if "is not a real date" in problem:
            raise InputError(Problem("bad_date", problem, file=name, line=line,
                                     hint="check day and month; dates are yyyy-mm-dd or dd/mm/yyyy")) from None
        raise InputError(Problem("yaml_error", problem, file=name, line=line)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        started = exc.context_mark.line + 1 if exc.context_mark and exc.problem_mark else None
        hint = "check indentation, colons and quotes on this line"
        if started and started != line:
            hint = f"the construct started at line {started}; check indentation, colons, quotes and brackets"
        raise InputError(Problem(
            "yaml_syntax", f"{exc.problem or 'invalid YAML'}" + (f" {exc.context}" if exc.context else ""),
            file=name, line=line, hint=hint,
        )) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem("yaml_syntax", str(exc), file=name)) from None
    except RecursionError:
        raise InputError(Problem("too_deep", "structure nested too deeply", file=name)) from None
    if data is None:
        raise InputError(Problem("empty_file", f"{what} holds no data", file=name))
    return data


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


def write_atomic(path: Path | str, data: str | bytes) -> None:
    """Write a file so that readers see either the old or the whole new content."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise InputError(Problem("output_dir_missing", f"folder '{directory}' does not exist",
                                 file=str(path), hint="create the folder first"))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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

