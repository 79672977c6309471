"""``parindex template``, ``export``, ``import-evidence`` and ``import-criteria``: the Office's Excel files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scoring.cli.common import common_options, emit, load_bundle_for
from scoring.core.errors import DefinitionError


def register(subparsers: Any) -> None:
    """Add ``template``, ``export``, ``import-evidence`` and ``import-criteria`` to ``parindex``."""
    p = subparsers.add_parser("template", help="tạo tệp Excel mẫu để nhập tài liệu kiểm chứng (evidence template)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the workbook to write (.xlsx)")
    p.add_argument("--department", metavar="NAME", help="điền sẵn tên đơn vị")
    p.set_defaults(func=cmd_template)

    p = subparsers.add_parser("export", help="chuyển tệp YAML tài liệu kiểm chứng sang Excel (YAML → xlsx)")
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file (.yaml)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the workbook to write (.xlsx)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("import-evidence", help="chuyển tệp Excel đã điền sang YAML (xlsx → YAML)")
    p.add_argument("workbook", metavar="WORKBOOK", help="filled evidence workbook (.xlsx)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the YAML to FILE instead of the screen")
    p.set_defaults(func=cmd_import_evidence)

    p = subparsers.add_parser("import-criteria", help="nhập bảng tiêu chí của tỉnh (xlsx) thành tệp bộ tiêu chí")
    p.add_argument("table", metavar="TABLE", help="the province's criteria table (.xlsx)")
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="criteria file to write, e.g. criteria/<id>.yaml")
    p.add_argument("--sheet", metavar="NAME", help="sheet to read (default: the first)")
    p.add_argument("--code-column", metavar="H", help="header text or column letter of the codes (default: STT / Mã)")
    p.add_argument("--title-column", metavar="H", help="header text or column letter of the titles")
    p.add_argument("--max-column", metavar="H", help="header text or column letter of the maximum points")
    p.add_argument("--id", dest="set_id", metavar="ID", help="criteria set id (default: the output file name)")
    p.add_argument("--title", metavar="TEXT", help="title of the criteria set")
    p.add_argument("--province", metavar="P", required=True, help="province, e.g. 'tỉnh Sơn La'")
    p.add_argument("--year", metavar="Y", type=int, required=True, help="assessment year")
    p.add_argument("--level", metavar="L", default="cap_so", help="level (default: cap_so)")
    p.add_argument("--official", action="store_true", help="the points are the province's official ones (needs --source)")
    p.add_argument("--source", metavar="TEXT", help="decision and annex the table comes from")
    p.add_argument("--external", metavar="CODE", action="append", default=[],
                   help="a field or criterion scored by survey (điều tra xã hội học); repeatable")
    p.add_argument("--scale", metavar="N", help="total points of the set (default: the sum of the fields; checked)")
    p.add_argument("--rules-out", metavar="DIR", help="folder for the rules skeleton (default: rules/<id>/ next to "
                                                     "the criteria folder)")
    p.add_argument("--keep-going", action="store_true", help="write the files even when the table has problems")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on internal errors")
    p.set_defaults(func=cmd_import_criteria)


def cmd_template(args: argparse.Namespace) -> int:
    from scoring.api import template

    emit(template(load_bundle_for(args), department=args.department), args.output)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from scoring.api import export_workbook, load_evidence

    ev = load_evidence(Path(args.evidence))
    emit(export_workbook(load_bundle_for(args, ev.criteria_set), ev), args.output, [args.evidence])
    return 0


def cmd_import_evidence(args: argparse.Namespace) -> int:
    from scoring.api import import_workbook

    emit(import_workbook(args.workbook, args.criteria, args.rules), args.output, [args.workbook])
    return 0


def cmd_import_criteria(args: argparse.Namespace) -> int:
    from scoring.analysis.explain import pts
    from scoring.api import import_criteria
    from scoring.core.yamlio import write_atomic

    out = Path(args.output)
    set_id = args.set_id or out.stem
    result = import_criteria(args.table, scale=args.scale, set_id=set_id, province=args.province, year=args.year,
                             level=args.level, title=args.title, sheet=args.sheet,
                             code_column=args.code_column, title_column=args.title_column,
                             max_column=args.max_column, official=args.official, source=args.source,
                             external=args.external)
    for note in result.notes:
        sys.stderr.write(f"Lưu ý: {note}\n")
    if result.problems and not args.keep_going:
        raise DefinitionError(result.problems)
    if args.rules_out:
        rules_dir = Path(args.rules_out)
    else:
        base = out.parent.parent if out.parent.name == "criteria" else out.parent
        rules_dir = base / "rules" / set_id
    emit(result.yaml_text, args.output, [args.table])
    rules_dir.mkdir(parents=True, exist_ok=True)
    kept = []
    for fname, text in result.rules_files.items():
        target = rules_dir / fname
        if target.exists() or any(p.name.split("-")[0] == fname.split("-")[0] for p in rules_dir.glob("*.yaml")):
            kept.append(fname)
            continue
        write_atomic(target, text)
    status = "chính thức" if args.official else "minh họa"
    sys.stderr.write(f"Đã nhập {result.fields} lĩnh vực, {result.leaves} tiêu chí thành phần, tổng {pts(result.scale)} "
                     f"điểm ({status}). Khung quy tắc: {rules_dir}"
                     + (f" (giữ nguyên tệp đã có cho lĩnh vực: {', '.join(k.split('-')[0] for k in kept)})" if kept else "")
                     + "\n")
    crit_dir = out.parent
    sys.stderr.write(f"Bước tiếp: viết quy tắc rồi chạy 'parindex check --criteria {crit_dir} --rules {rules_dir.parent} "
                     f"--criteria-set {set_id}'.\n")
    if result.problems:
        for p in result.problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(f"{len(result.problems)} lỗi: đã ghi tệp (--keep-going) nhưng cần sửa trước khi dùng.\n")
        return 2
    return 0

