"""``parindex template``, ``export``, ``import-evidence`` and ``import-criteria``: the Office's Excel files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scoring.cli.common import common_options, emit, load_bundle_for
from scoring.core.errors import DefinitionError, InputError, Problem


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

    p = subparsers.add_parser("import-criteria", help="nhập bảng tiêu chí của tỉnh (xlsx) thành tệp bộ tiêu chí "
                                                         "(import a province's criteria table)")
    p.add_argument("table", metavar="TABLE", help="bảng tiêu chí của tỉnh (.xlsx) (the province's criteria table)")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="tệp bộ tiêu chí sẽ ghi, ví dụ criteria/<mã>.yaml (criteria file to write)")
    p.add_argument("--sheet", metavar="NAME", help="trang tính cần đọc; mặc định: trang đầu (sheet to read)")
    p.add_argument("--code-column", metavar="H", help="tiêu đề hoặc chữ cái của cột mã; mặc định: STT / Mã "
                                                      "(column of the codes)")
    p.add_argument("--title-column", metavar="H", help="tiêu đề hoặc chữ cái của cột tên tiêu chí (column of the titles)")
    p.add_argument("--max-column", metavar="H", help="tiêu đề hoặc chữ cái của cột điểm tối đa "
                                                     "(column of the maximum points)")
    p.add_argument("--id", dest="set_id", metavar="ID", help="mã bộ tiêu chí; mặc định: tên tệp ghi ra (criteria set id)")
    p.add_argument("--title", metavar="TEXT", help="tên bộ tiêu chí (title of the criteria set)")
    p.add_argument("--province", metavar="P", required=True, help="tỉnh, ví dụ 'tỉnh Sơn La' (province)")
    p.add_argument("--year", metavar="Y", type=int, required=True, help="năm đánh giá (assessment year)")
    p.add_argument("--level", metavar="L", default="cap_so", help="cấp đánh giá; mặc định: cap_so (level)")
    p.add_argument("--official", action="store_true", help="điểm là điểm chính thức của tỉnh, cần --source "
                                                           "(the points are official)")
    p.add_argument("--source", metavar="TEXT", help="quyết định và phụ lục ban hành bảng tiêu chí "
                                                    "(decision and annex of the table)")
    p.add_argument("--external", metavar="CODE", action="append", default=[],
                   help="lĩnh vực hoặc tiêu chí chấm qua điều tra xã hội học; dùng nhiều lần được "
                        "(scored by survey; repeatable)")
    p.add_argument("--scale", metavar="N", help="tổng điểm của bộ; mặc định: tổng các lĩnh vực, có kiểm tra "
                                                "(total points of the set)")
    p.add_argument("--rules-out", metavar="DIR", help="thư mục cho khung quy tắc; mặc định: rules/<mã>/ cạnh thư mục "
                                                     "tiêu chí; không ghi tệp nào nếu đây là một tệp "
                                                     "(folder for the rules skeleton)")
    p.add_argument("--keep-going", action="store_true", help="vẫn ghi các tệp khi bảng còn lỗi "
                                                             "(write the files even with problems)")
    p.add_argument("--debug", action="store_true",
                   help="hiện chi tiết lỗi nội bộ cho nhóm phát triển (show Python tracebacks)")
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


def _write_import(args: argparse.Namespace, result: Any, rules_dir: Path) -> list[str]:
    """All or nothing: the criteria file and the rules skeleton are written together, or nothing is
    (a --rules-out naming a file, an unwritable folder or a full disk leaves no half an output).
    Returns the rules files kept because the Office already has rules for their field."""
    from scoring.core import safeio

    safeio.check_output(args.output, [args.table], fmt="yaml")
    if rules_dir.exists() and not rules_dir.is_dir():
        raise InputError(Problem("rules_out_not_folder",
                                 f"--rules-out '{rules_dir}' là một tệp đã có, không phải thư mục; không tệp nào được ghi "
                                 f"(--rules-out names an existing file; nothing was written)",
                                 file=str(rules_dir), subject="--rules-out",
                                 hint="chỉ tới một thư mục (có sẵn hoặc mới), ví dụ --rules-out rules/ten-bo-tieu-chi"))
    blocker = next((d for d in rules_dir.parents if d.exists() and not d.is_dir()), None)
    if blocker is not None:
        raise InputError(Problem("rules_out_not_folder",
                                 f"không tạo được thư mục '{rules_dir}': '{blocker}' là một tệp; không tệp nào được ghi "
                                 f"(the path goes through a file; nothing was written)",
                                 file=str(rules_dir), subject="--rules-out", hint="chọn một thư mục khác"))
    existing = list(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    files: list[tuple[Path | str, str | bytes]] = [(args.output, result.yaml_text)]
    kept = []
    for fname, text in result.rules_files.items():
        target = rules_dir / fname
        if target.exists() or any(p.name.split("-")[0] == fname.split("-")[0] for p in existing):
            kept.append(fname)  # a field whose rules the Office already wrote: never replaced
            continue
        files.append((target, text))
    created = [d for d in [rules_dir, *rules_dir.parents] if not d.exists()]
    try:
        rules_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem("write_failed", f"không tạo được thư mục '{rules_dir}' ({exc.strerror}); "
                                 f"không tệp nào được ghi (nothing was written)", file=str(rules_dir),
                                 subject="--rules-out")) from None
    try:
        safeio.write_outputs_together(files, [args.table])
    except BaseException:
        for d in created:  # folders made for this run only, and still empty
            try:
                d.rmdir()
            except OSError:
                break
        raise
    sys.stderr.write(f"Đã ghi {args.output}\n")
    return kept


def cmd_import_criteria(args: argparse.Namespace) -> int:
    from scoring.analysis.explain import pts
    from scoring.api import import_criteria
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
    kept = _write_import(args, result, rules_dir)
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

