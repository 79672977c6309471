"""``parindex template``, ``export``, ``import-evidence`` and ``import-criteria``: the Office's Excel files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scoring.cli.common import common_options, emit, load_bundle_for
from scoring.core.errors import DefinitionError, InputError, Problem
from scoring.core.yamlio import write_atomic

#: the columns import-criteria can be told, in the clerk's words
COLUMN_VI = {"code": "số thứ tự (STT)", "title": "tên lĩnh vực/tiêu chí", "max": "điểm tối đa",
             "guidance": "hướng dẫn chấm điểm"}


def register(subparsers: Any) -> None:
    """Add ``template``, ``export``, ``import-evidence`` and ``import-criteria`` to ``parindex``."""
    p = subparsers.add_parser("template", help="tạo tệp Excel mẫu để nhập tài liệu kiểm chứng (evidence template)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="bảng tính sẽ ghi (.xlsx) (the workbook to write)")
    p.add_argument("--department", metavar="NAME", help="điền sẵn tên đơn vị (the department's name)")
    p.set_defaults(func=cmd_template)

    p = subparsers.add_parser("export", help="chuyển tệp YAML tài liệu kiểm chứng sang Excel (YAML → xlsx)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml) (evidence file)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="bảng tính sẽ ghi (.xlsx) (the workbook to write)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("import-evidence", help="chuyển tệp Excel đã điền sang YAML (xlsx → YAML)")
    p.add_argument("workbook", metavar="WORKBOOK", help="bảng tính tài liệu kiểm chứng đã điền (.xlsx) "
                                                        "(filled evidence workbook)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="ghi YAML vào tệp FILE thay vì in ra màn hình "
                                                          "(write the YAML to FILE)")
    p.set_defaults(func=cmd_import_evidence)

    p = subparsers.add_parser(
        "import-criteria", help="nhập bảng tiêu chí của tỉnh (xlsx) thành bộ tiêu chí và quy tắc chấm được ngay",
        description="Đọc bảng tiêu chí (phụ lục quyết định của tỉnh, tệp .xlsx) và ghi tệp bộ tiêu chí cùng thư mục "
                    "quy tắc: mỗi tiêu chí thành phần có một quy tắc, đọc từ thang điểm trong bảng (tỷ lệ, số lượng, "
                    "có/không) hoặc, nếu không đọc được, thành quy tắc chọn mức / nhập điểm trực tiếp. Sau khi nhập: "
                    "'parindex check', 'parindex template', điền tệp Excel, 'parindex score'. Xem docs/criteria-import.md.",
        epilog="Ví dụ: parindex import-criteria bang-tieu-chi.xlsx -o criteria/son-la-2025.yaml "
               "--province \"tỉnh Sơn La\" --year 2025")
    p.add_argument("table", metavar="TABLE", help="bảng tiêu chí của tỉnh (.xlsx)")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="tệp bộ tiêu chí sẽ ghi, ví dụ criteria/<mã>.yaml")
    p.add_argument("--sheet", metavar="NAME", help="chỉ đọc trang tính này (mặc định: mọi trang có bảng tiêu chí)")
    for role, option in (("code", "--code-column"), ("title", "--title-column"), ("max", "--max-column"),
                         ("guidance", "--guidance-column")):
        p.add_argument(option, metavar="H", dest=f"{role}_column",
                       help=f"chữ ở tiêu đề cột hoặc chữ cái của cột {COLUMN_VI[role]} (mặc định: tự nhận)")
    p.add_argument("--id", dest="set_id", metavar="ID", help="mã bộ tiêu chí (mặc định: tên tệp -o)")
    p.add_argument("--title", metavar="TEXT", help="tên bộ tiêu chí")
    p.add_argument("--province", metavar="P", required=True, help="tỉnh, ví dụ 'tỉnh Sơn La'")
    p.add_argument("--year", metavar="Y", type=int, required=True, help="năm đánh giá")
    p.add_argument("--level", metavar="L", default="cap_so", help="cấp đánh giá (mặc định: cap_so)")
    p.add_argument("--official", action="store_true", help="điểm là điểm chính thức của tỉnh (cần --source)")
    p.add_argument("--source", metavar="TEXT", help="quyết định và phụ lục ban hành bảng")
    p.add_argument("--external", metavar="CODE", action="append", default=[],
                   help="mã (dạng chấm, ví dụ 8) của lĩnh vực/tiêu chí do tỉnh cho điểm (điều tra xã hội học); lặp lại được")
    p.add_argument("--scale", metavar="N", help="tổng điểm của bộ (mặc định: tổng các lĩnh vực; có kiểm tra)")
    p.add_argument("--rules-out", metavar="DIR", help="thư mục quy tắc (mặc định: rules/<mã>/ cạnh thư mục criteria)")
    p.add_argument("--keep-going", action="store_true", help="vẫn ghi tệp khi bảng còn lỗi")
    p.add_argument("--debug", action="store_true", help="hiện traceback khi có lỗi nội bộ")
    p.set_defaults(func=cmd_import_criteria)


def cmd_template(args: argparse.Namespace) -> int:
    from scoring.api import template

    emit(template(load_bundle_for(args), department=args.department), args.output, fmt="xlsx")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from scoring.api import export_workbook, load_evidence

    ev = load_evidence(Path(args.evidence))
    emit(export_workbook(load_bundle_for(args, ev.criteria_set), ev), args.output, [args.evidence], fmt="xlsx")
    return 0


def cmd_import_evidence(args: argparse.Namespace) -> int:
    from scoring.api import import_workbook

    emit(import_workbook(args.workbook, args.criteria, args.rules), args.output, [args.workbook], fmt="yaml")
    return 0


def cmd_import_criteria(args: argparse.Namespace) -> int:
    from scoring.analysis.explain import pts
    from scoring.api import import_criteria

    out = Path(args.output)
    set_id = args.set_id or out.stem
    columns = {role: getattr(args, f"{role}_column") for role in ("code", "title", "max", "guidance")
               if getattr(args, f"{role}_column", None)}
    result = import_criteria(args.table, scale=args.scale, set_id=set_id, province=args.province, year=args.year,
                             level=args.level, sheet=args.sheet, columns=columns, title=args.title,
                             official=args.official, source=args.source, external=args.external)
    for note in result.notes:
        sys.stderr.write(f"Lưu ý: {note}\n")
    for p in result.unread_rows:
        sys.stderr.write(f"Không đọc được: {p.format()}\n")
    if result.problems and not args.keep_going:
        raise DefinitionError(list(result.problems))
    if args.rules_out:
        rules_dir = Path(args.rules_out)
    else:
        base = out.parent.parent if out.parent.name == "criteria" else out.parent
        rules_dir = base / "rules" / set_id
    if Path(args.table).resolve() in {out.resolve(), *(rules_dir.resolve() / f for f in result.rules_files)}:
        raise InputError(Problem("would_overwrite_input", "tệp ghi ra trùng với bảng tiêu chí", subject="--output",
                                 hint="chọn tên tệp khác"))
    try:  # a new set's criteria folder is created, like its rules folder
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem("cannot_write", f"không tạo được thư mục '{out.parent}': {exc.strerror}",
                                 file=str(out), hint="chọn -o trong một thư mục ghi được")) from None
    # all or nothing: the rules are written first; if they cannot be, the criteria file is not written
    kept, written = _write_rules(rules_dir, result.rules_files)
    try:
        emit(result.criteria_yaml, args.output, [args.table], fmt="yaml")
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        raise
    status = "chính thức" if args.official else "minh họa"
    sys.stderr.write(
        f"Đã nhập {result.fields} lĩnh vực, {result.leaves} tiêu chí thành phần, tổng {pts(result.scale)} điểm "
        f"({status}).\n"
        f"Quy tắc ({rules_dir}): {result.computed_rules} tính tự động từ thang điểm (tỷ lệ, số lượng, có/không), "
        f"{result.level_rules} chọn mức theo bảng, {result.points_rules} nhập điểm trực tiếp"
        + (f", {result.external_rules} điểm do tỉnh cung cấp" if result.external_rules else "") + ".\n"
        + (f"Giữ nguyên tệp quy tắc đã có của lĩnh vực: {', '.join(k.split('-')[0] for k in kept)} "
           f"(xóa tệp đó rồi nhập lại nếu muốn tạo lại).\n" if kept else "")
        + (f"{len(result.unread_rows)} dòng không đọc được (xem trên); bảng vẫn được nhập không có các dòng đó.\n"
           if result.unread_rows else ""))
    rules_root = rules_dir.parent
    sys.stderr.write(f"Bước tiếp: parindex check --criteria {out.parent} --rules {rules_root} --criteria-set {set_id}\n"
                     f"rồi: parindex template --criteria {out.parent} --rules {rules_root} --criteria-set {set_id} "
                     f"-o tu-cham.xlsx\n")
    if result.problems:
        for p in result.problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(f"{len(result.problems)} lỗi: đã ghi tệp (--keep-going) nhưng cần sửa bảng trước khi dùng.\n")
        return 2
    return 0


def _write_rules(rules_dir: Path, files: dict[str, str]) -> tuple[list[str], list[Path]]:
    """Write the rules files (a field whose file exists keeps it); on failure remove what was written."""
    try:
        rules_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem("cannot_write", f"không tạo được thư mục quy tắc '{rules_dir}': {exc.strerror}",
                                 file=str(rules_dir), hint="chọn thư mục khác bằng --rules-out")) from None
    kept: list[str] = []
    written: list[Path] = []
    existing = {p.name.split("-")[0] for p in rules_dir.glob("*.yaml")}
    try:
        for fname, text in files.items():
            target = rules_dir / fname
            if target.exists() or fname.split("-")[0] in existing:
                kept.append(fname)
                continue
            write_atomic(target, text)
            written.append(target)
    except (OSError, InputError) as exc:
        for target in written:
            target.unlink(missing_ok=True)
        if isinstance(exc, InputError):
            raise
        raise InputError(Problem("cannot_write", f"không ghi được tệp quy tắc vào '{rules_dir}': {exc.strerror}",
                                 file=str(rules_dir), hint="kiểm tra quyền ghi hoặc chọn --rules-out khác")) from None
    return kept, written
