"""Files in and out, safely: the one input guard and the one output guard of every command.

Inputs are regular files only (a named pipe would block for ever, ``/dev/zero`` never ends), read
with a size limit. Every file a run reads is remembered, so that no output of the same run can
replace it: ``score -o`` naming the criteria or rules file being read is refused like naming the
evidence.

Outputs are refused when the path is a file the run reads, a folder, a special file (a pipe, a
device) or a path under a file, and when its extension does not match the format. They are written
to a temporary file in the same folder and renamed at the end, so a reader sees either the old file
or the whole new one; the temporary file is removed on any error, and on SIGINT/SIGTERM once the
command-line entry point has called :func:`install_signal_handlers` (a library never installs
signal handlers itself). New files get the mode a new file of the user would get (0666 minus the
umask, usually 0644), not ``mkstemp``'s 0600: colleagues on a shared drive can read them.

Every refusal is a :class:`Problem`, Vietnamese first with English in brackets.
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from scoring.core.errors import InputError, Problem

#: Default size limit of an input file that is read whole (YAML, CSV of peers/options …).
MAX_INPUT_BYTES = 5 * 1024 * 1024

#: The extensions an output file may have, by ``--format``. ``""`` is a name without extension.
FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "table": ("", ".txt", ".text", ".log"),
    "markdown": (".md", ".markdown", ".txt"),
    "json": (".json",),
    "csv": (".csv", ".txt"),
    "xlsx": (".xlsx",),
    "docx": (".docx",),
    "yaml": (".yaml", ".yml"),
}

#: What a binary output's first bytes and zip members say it is (used when no format is given).
_ZIP_KINDS = ((b"word/document.xml", "docx"), (b"xl/workbook.xml", "xlsx"))

_read_ids: set[tuple[int, int]] = set()
_read_paths: set[str] = set()


# ------------------------------------------------------------------ inputs


def note_read(path: Path | str, st: os.stat_result | None = None) -> None:
    """Remember that this run reads ``path``: no output may replace it."""
    p = Path(path)
    try:
        st = st or p.stat()
        _read_ids.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    _read_paths.add(str(p.resolve()))


def forget_reads() -> None:
    """Start a new run (tests, a long-lived process serving several runs)."""
    _read_ids.clear()
    _read_paths.clear()


def _is_read(path: Path, st: os.stat_result | None) -> bool:
    if st is not None and (st.st_dev, st.st_ino) in _read_ids:
        return True
    return str(path.resolve()) in _read_paths


def _subject(subject: str | None) -> dict[str, str]:
    return {"subject": subject} if subject else {}


def check_input_file(path: Path | str, what: str = "tệp", subject: str | None = None) -> os.stat_result:
    """Refuse anything but an existing, readable, regular file; remember it as read.

    ``what`` names the file for the clerk (``"tệp tài liệu kiểm chứng"``); the message says what
    is wrong and how to fix it.
    """
    p = Path(path)
    name = str(p)
    where = {"file": name, **_subject(subject)}
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(Problem(
            "file_not_found", f"không tìm thấy {what} '{name}' (file '{name}' does not exist)", **where,
            hint="kiểm tra lại đường dẫn và tên tệp (check the path and spelling)")) from None
    except NotADirectoryError:
        raise InputError(Problem(
            "file_not_found", f"không tìm thấy {what} '{name}': một phần của đường dẫn là tệp, không phải thư mục "
                              f"(a part of the path is a file, not a folder)", **where,
            hint="kiểm tra lại đường dẫn (check the path)")) from None
    except PermissionError:
        raise InputError(_permission(name, what, reading=True, **_subject(subject))) from None
    except OSError as exc:
        raise InputError(Problem("unreadable_file", f"không đọc được {what} '{name}' (cannot read the file: "
                                 f"{exc.strerror or exc})", **where)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Problem(
            "not_a_file", f"'{name}' là thư mục, không phải tệp (a folder, not a file)", **where,
            hint="chỉ tới một tệp trong thư mục đó (name a file inside the folder)"))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(Problem(
            "not_a_regular_file",
            f"'{name}' không phải tệp thông thường mà là ống dẫn hoặc thiết bị (a pipe or device, not a regular file)",
            **where, hint="lưu dữ liệu vào một tệp rồi chỉ tới tệp đó (save the data to a file first)"))
    if not os.access(p, os.R_OK):
        raise InputError(_permission(name, what, reading=True, **_subject(subject)))
    note_read(p, st)
    return st


def read_input_bytes(path: Path | str, what: str = "tệp", max_bytes: int = MAX_INPUT_BYTES,
                     subject: str | None = None) -> bytes:
    """The whole content of a regular input file of at most ``max_bytes`` bytes.

    The file is opened without blocking and checked again once open, so a file swapped for a
    pipe between the check and the read cannot hang the run.
    """
    p = Path(path)
    name = str(p)
    st = check_input_file(p, what, subject)
    if st.st_size > max_bytes:
        raise InputError(_too_large(name, what, st.st_size, max_bytes, subject))
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except PermissionError:
        raise InputError(_permission(name, what, reading=True, **_subject(subject))) from None
    except OSError as exc:
        raise InputError(Problem("unreadable_file", f"không đọc được {what} '{name}' (cannot read the file: "
                                 f"{exc.strerror or exc})", file=name, **_subject(subject))) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError(Problem("not_a_regular_file", f"'{name}' không phải tệp thông thường "
                                     f"(not a regular file)", file=name, **_subject(subject)))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew after the check
        raise InputError(_too_large(name, what, len(data), max_bytes, subject))
    return data


def _too_large(name: str, what: str, size: int, limit: int, subject: str | None) -> Problem:
    return Problem("file_too_large", f"{what} nặng {_vi_int(size)} byte, quá giới hạn {_vi_int(limit)} byte "
                                     f"(the file is {size:,} bytes; the limit is {limit:,})",
                   file=name, **_subject(subject),
                   hint="kiểm tra đúng tệp chưa, hoặc tách tệp thành nhiều tệp nhỏ (check it is the right file, or split it)")


def _permission(name: str, what: str, reading: bool, **where: str) -> Problem:
    if reading:
        return Problem("permission_denied", f"không có quyền đọc {what} '{name}' (permission denied)", file=name, **where,
                       hint="xin quyền đọc tệp, hoặc chép tệp vào thư mục của mình (ask for read access or copy the file)")
    return Problem("permission_denied", f"không có quyền ghi vào '{name}' (permission denied)", file=name, **where,
                   hint="chọn thư mục mình được ghi, ví dụ thư mục cá nhân (choose a folder you may write to)")


# ------------------------------------------------------------------ outputs


def _format_of(data: bytes | str | None) -> str | None:
    """The binary format of ``data`` when it is a zip of a known kind (no ``--format`` given)."""
    if isinstance(data, bytes) and data[:4] == b"PK\x03\x04":
        head = data[:65536] + data[-65536:]
        for marker, kind in _ZIP_KINDS:
            if marker in head:
                return kind
    return None


def check_output(path: Path | str, inputs: Iterable[Path | str | None] = (), fmt: str | None = None,
                 data: bytes | str | None = None, subject: str = "--output") -> Path:
    """Refuse an output path that would replace an input, is a folder, a special file, lies under
    a file, or has an extension another format uses; return the path to write.

    ``inputs`` are files of this run not (yet) read through :func:`check_input_file`; files read
    through it are refused anyway. ``fmt`` is the ``--format`` value; without it, a binary
    ``data`` is recognised by its content.
    """
    text = str(path)
    if not text.strip():
        raise InputError(Problem("bad_output", "tên tệp kết quả đang trống (the output file name is empty)",
                                 subject=subject, hint="ví dụ -o ket-qua.txt"))
    if "\x00" in text:
        raise InputError(Problem("bad_output", "tên tệp kết quả chứa ký tự NUL (the output name holds a NUL byte)",
                                 subject=subject))
    target = Path(path)
    name = str(target)
    where = {"file": name, "subject": subject}
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise InputError(_under_file(target, subject)) from None
    except PermissionError:
        raise InputError(_permission(name, "", reading=False, subject=subject)) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(Problem(
                "output_is_folder", f"'{name}' là thư mục, không phải tệp (-o names a folder, not a file)", **where,
                hint=f"ghi tên tệp trong thư mục đó, ví dụ -o {Path(name) / ('ket-qua' + _first_ext(fmt))}"))
        if not stat.S_ISREG(st.st_mode):
            raise InputError(Problem(
                "output_special_file", f"'{name}' là ống dẫn hoặc thiết bị, không phải tệp thông thường "
                                       f"(-o names a pipe or device)", **where,
                hint="bỏ -o để in ra màn hình, hoặc chọn một tệp thông thường (leave out -o to print)"))
    inputs_given = [Path(i) for i in inputs if i]
    same = _is_read(target, st) or any(_same_file(target, st, i) for i in inputs_given)
    if same:
        raise InputError(Problem(
            "would_overwrite_input",
            f"-o '{name}' là một tệp đầu vào của lệnh này; parindex không bao giờ sửa tệp đầu vào "
            f"(-o names an input file; parindex never changes its inputs)", **where,
            hint="chọn tên tệp kết quả khác (choose another output file name)"))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        if any(p.exists() and not p.is_dir() for p in parent.parents) or (parent.is_file()):
            raise InputError(_under_file(target, subject))
        raise InputError(Problem(
            "output_dir_missing", f"thư mục '{parent}' không tồn tại (folder '{parent}' does not exist)", **where,
            hint="tạo thư mục trước, hoặc ghi vào thư mục đã có (create the folder first)"))
    if not parent.is_dir():
        raise InputError(_under_file(target, subject))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(_permission(str(parent), "", reading=False, subject=subject))
    kind = fmt or _format_of(data)
    if kind in FORMAT_EXTENSIONS:
        ext = target.suffix.lower()
        allowed = FORMAT_EXTENSIONS[kind]
        if ext not in allowed:
            shown = ", ".join(a for a in allowed if a) + (" hoặc không đuôi" if "" in allowed else "")
            follows = [f for f, exts in FORMAT_EXTENSIONS.items() if ext and ext in exts]
            hint = (f"đổi tên thành '{target.with_suffix(_first_ext(kind)).name}'"
                    + (f", hoặc dùng --format {follows[0]}" if follows else "")
                    + " (rename the file, or choose the matching --format)")
            raise InputError(Problem(
                "output_extension_mismatch",
                f"tệp kết quả '{target.name}' có đuôi '{ext or '(không đuôi)'}' nhưng định dạng là {kind} "
                f"(cần {shown}) (the extension does not match --format {kind})", **where, hint=hint))
    return target


def _first_ext(fmt: str | None) -> str:
    exts = FORMAT_EXTENSIONS.get(fmt or "", (".txt",))
    return next((e for e in exts if e), ".txt")


def _same_file(target: Path, st: os.stat_result | None, other: Path) -> bool:
    try:
        o = other.stat()
    except OSError:
        return target.resolve() == other.resolve()
    if st is not None:
        return (st.st_dev, st.st_ino) == (o.st_dev, o.st_ino)
    return target.resolve() == other.resolve()


def _under_file(target: Path, subject: str) -> Problem:
    blocker = next((p for p in [target.parent, *target.parent.parents] if p.exists() and not p.is_dir()), target.parent)
    return Problem("output_under_file",
                   f"không ghi được '{target}': '{blocker}' là một tệp, không phải thư mục "
                   f"(the path goes through a file, not a folder)", file=str(target), subject=subject,
                   hint="chọn một thư mục có thật cho tệp kết quả (choose an existing folder)")


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it the classic way (and put it back at once)
    os.umask(mask)
    return mask


def _write_problem(exc: OSError, target: Path) -> Problem:
    name = str(target)
    if isinstance(exc, PermissionError):
        return _permission(name, "", reading=False, subject="--output")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return Problem("disk_full", f"không ghi hết được '{name}': ổ đĩa đầy hoặc vượt hạn mức dung lượng "
                                    f"(disk full or file size limit: {exc.strerror}); tệp cũ (nếu có) được giữ nguyên",
                       file=name, subject="--output",
                       hint="giải phóng dung lượng hoặc ghi sang ổ khác rồi chạy lại (free some space or write elsewhere)")
    if exc.errno == errno.EROFS:
        return Problem("read_only_disk", f"ổ đĩa chứa '{name}' chỉ cho đọc (read-only file system)", file=name,
                       subject="--output", hint="ghi sang thư mục khác (write to another folder)")
    return Problem("write_failed", f"không ghi được '{name}' ({exc.strerror or exc})", file=name, subject="--output",
                   hint="kiểm tra thư mục và dung lượng ổ đĩa (check the folder and free space)")


@contextmanager
def atomic_output(path: Path | str) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` only when the block ends without error.

    The temporary file lives in the same folder (so the rename is atomic) and is removed when the
    block raises anything, ``KeyboardInterrupt`` and :class:`Terminated` included. An ``OSError``
    (permission, full disk, file size limit) becomes an :class:`InputError` said in Vietnamese.
    Call :func:`check_output` first.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        old_mode = stat.S_IMODE(target.stat().st_mode) if target.is_file() else None
    except OSError:
        old_mode = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(_write_problem(exc, target)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), old_mode if old_mode is not None else 0o666 & ~_umask())
            yield handle  # type: ignore[misc]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise InputError(_write_problem(exc, target)) from None
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def _bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def write_output(path: Path | str, data: str | bytes, inputs: Iterable[Path | str | None] = (),
                 fmt: str | None = None, subject: str = "--output") -> Path:
    """Check ``path`` with :func:`check_output`, then write ``data`` (text as UTF-8) atomically."""
    target = check_output(path, inputs, fmt, data, subject)
    with atomic_output(target) as handle:
        handle.write(_bytes(data))
    return target


def write_outputs_together(files: list[tuple[Path | str, str | bytes]],
                           inputs: Iterable[Path | str | None] = ()) -> None:
    """All or nothing: every path is checked first, every content written to its temporary file,
    and only then are they all renamed; on any error no output exists (old files are kept)."""
    inputs = list(inputs)
    targets = [check_output(p, inputs, subject=str(p)) for p, _ in files]
    seen: set[Path] = set()
    for t in targets:
        if t.resolve() in seen:
            raise InputError(Problem("duplicate_output", f"'{t}' được ghi hai lần (the same output twice)", file=str(t)))
        seen.add(t.resolve())
    pending: list[tuple[str, Path]] = []
    try:
        for target, (_, data) in zip(targets, files):
            directory = target.parent if str(target.parent) else Path(".")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
            pending.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
                handle.write(_bytes(data))
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, target in pending:
            os.replace(tmp, target)
        pending = []
    except OSError as exc:
        failed = pending[-1][1] if pending else targets[0]
        raise InputError(_write_problem(exc, failed)) from None
    finally:
        for tmp, _ in pending:
            _discard(tmp)


# ------------------------------------------------------------------ signals (command-line entry only)


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwinds like ``KeyboardInterrupt`` so temporary files are removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def install_signal_handlers() -> dict[int, object]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (SIGINT already raises KeyboardInterrupt);
    returns the handlers they replace, for :func:`restore_signal_handlers`.

    Only the command-line entry point calls this; the main thread only (Python's rule).
    """
    previous: dict[int, object] = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                previous[signum] = signal.signal(signum, _raise_terminated)
            except (ValueError, OSError):  # not the main thread, or not allowed here
                pass
    return previous


def restore_signal_handlers(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        try:
            signal.signal(signum, handler)  # type: ignore[arg-type]
        except (ValueError, OSError, TypeError):
            pass


# ------------------------------------------------------------------ workbooks (before openpyxl sees them)

#: rows × columns a sheet may claim before openpyxl is let loose on it (openpyxl fills every cell of the
#: claimed range while iterating: one cell typed at XFD1048576 makes 17 billion)
MAX_SHEET_CELLS = 60_000_000
#: uncompressed size of one member of a workbook (a zip bomb is refused before it is inflated)
MAX_MEMBER_BYTES = 1024 * 1024 * 1024

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?\"")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member name → the sheet's name as Excel shows it on its tab."""
    import xml.etree.ElementTree as ET

    names: dict[str, str] = {}
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError):
        return names
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    for sheet in book.iter():
        if sheet.tag.endswith("}sheet") or sheet.tag == "sheet":
            rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            names[member] = sheet.get("name", member)
    return names


def check_workbook(data: bytes | Path, name: str, max_rows: int, max_columns: int, formulas: bool = False) -> None:
    """Refuse, before openpyxl reads it, a workbook whose sheet claims more rows or columns than
    ``max_rows``/``max_columns`` (or millions of cells), a zip bomb, and with ``formulas`` a formula
    cell that holds no computed value (a file written by a program, never opened in Excel, reads as
    blank there: an on-time rate of 3 % instead of 97 %). Damaged files are left to openpyxl's reader,
    which says so in its own words.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with zf:
        sheets = _sheet_names(zf)
        members = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
        for info in zf.infolist():
            if info.file_size > MAX_MEMBER_BYTES:
                raise InputError(Problem(
                    "workbook_too_large", f"bảng tính giải nén ra quá lớn ({_vi_int(info.file_size)} byte) "
                                          f"(a part of the workbook inflates to {info.file_size:,} bytes)", file=name,
                    hint="lưu lại bảng tính từ Excel, chỉ giữ các trang cần thiết (save only the sheets needed)"))
        for info in members:
            sheet = sheets.get(info.filename, info.filename)
            try:
                with zf.open(info) as handle:
                    head = handle.read(16384)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError):
                return  # damaged: openpyxl says so
            found = _DIMENSION.search(head)
            if found and found.group(3):
                rows = int(found.group(4))
                cols = _column_number(found.group(3).decode())
                if rows > max_rows or cols > max_columns or rows * cols > MAX_SHEET_CELLS:
                    far = f"{found.group(3).decode()}{rows}"
                    raise InputError(_range_problem(name, sheet, far, rows, cols, max_rows, max_columns))
            if formulas:
                _check_cached_values(zf, info, name, sheet)


def _vi_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _range_problem(name: str, sheet: str, far: str, rows: int, cols: int, max_rows: int, max_columns: int) -> Problem:
    return Problem(
        "sheet_too_large",
        f"trang '{sheet}' khai báo vùng dữ liệu tới ô {far} ({_vi_int(rows)} dòng × {_vi_int(cols)} cột), quá giới hạn "
        f"{_vi_int(max_rows)} dòng × {_vi_int(max_columns)} cột (the sheet claims cells up to {far})",
        file=f"{name}", subject=f"'{sheet}'!{far}",
        hint="trong Excel bấm Ctrl+End để tới ô cuối; xóa các dòng, cột thừa sau vùng số liệu (chọn, chuột phải → "
             "Delete), lưu lại rồi chạy lại (delete the rows and columns after the data, save, run again)")


def _check_cached_values(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, sheet: str) -> None:
    """A formula cell without a cached value (``<c><f>…</f></c>`` with no ``<v>``) is an error naming the cell."""
    import xml.etree.ElementTree as ET

    with zf.open(info) as handle:  # a cheap pass first: most exports hold no formula at all
        tail = b""
        found = False
        while chunk := handle.read(1 << 20):
            if _FORMULA.search(tail + chunk):
                found = True
                break
            tail = chunk[-16:]
    if not found:
        return
    missing: list[str] = []
    with zf.open(info) as handle:
        for _, elem in ET.iterparse(handle, events=("end",)):
            if elem.tag.endswith("}c") or elem.tag == "c":
                has_f = has_v = False
                for child in elem:
                    tag = child.tag.rsplit("}", 1)[-1]
                    has_f = has_f or tag == "f"
                    has_v = has_v or (tag in ("v", "is") and (child.text or len(child)))
                if has_f and not has_v:
                    missing.append(elem.get("r", "?"))
                    if len(missing) >= 5:
                        break
                elem.clear()
    if missing:
        cells = ", ".join(f"'{sheet}'!{c}" for c in missing)
        raise InputError(Problem(
            "formula_without_value",
            f"ô {cells} có công thức nhưng chưa có giá trị tính sẵn; parindex không tự tính công thức "
            f"(formula cells without a computed value)", file=name, subject=f"'{sheet}'!{missing[0]}",
            hint="mở tệp bằng Excel hoặc LibreOffice để công thức được tính, lưu lại rồi chạy lại; "
                 "hoặc chép và dán giá trị (Paste Special → Values) (open and save the file in Excel)"))


def check_loaded_sheets(wb: object, name: str, max_rows: int, max_columns: int) -> None:
    """After openpyxl loaded a workbook (not read-only): refuse a sheet whose real cells reach beyond
    the limits (openpyxl would create every cell up to there while iterating)."""
    for ws in getattr(wb, "worksheets", []):
        cells = getattr(ws, "_cells", None)
        if not cells:
            continue
        if ws.max_row <= max_rows and ws.max_column <= max_columns:
            continue
        row, col = max(cells, key=lambda rc: (rc[1] > max_columns, rc[0] > max_rows, rc[1] * rc[0]))
        raise InputError(_range_problem(name, ws.title, f"{column_letters(col)}{row}", ws.max_row, ws.max_column,
                                        max_rows, max_columns))


def environment_problem(exc: BaseException) -> Problem | None:
    """A Problem for an error of the machine rather than of parindex, met while preparing an output
    (the xlsx writer's own temporary files on a full disk: ``OSError``, or lxml's ``IO_EFBIG`` /
    ``IO_ENOSPC``), or None when ``exc`` is not one."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES):
        where = Path(exc.filename) if exc.filename else Path(tempfile.gettempdir())
        return _write_problem(exc, where)
    text = str(exc)
    if type(exc).__name__ == "SerialisationError" and any(c in text for c in ("IO_EFBIG", "IO_ENOSPC", "IO_EDQUOT")):
        return Problem("disk_full", "không ghi được tệp tạm khi tạo bảng tính: ổ đĩa đầy hoặc vượt hạn mức dung lượng "
                                    f"(disk full or file size limit: {text}); không tệp kết quả nào bị ghi",
                       file=tempfile.gettempdir(), subject="--output",
                       hint="giải phóng dung lượng rồi chạy lại (free some space and run again)")
    return None
