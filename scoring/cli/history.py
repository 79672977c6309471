"""``parindex history``: the web application's stored history, in the terminal."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

from scoring.cli.serve import db_option
from scoring.core.errors import InputError, Problem


def _pts(value: Decimal | None) -> str:
    from scoring.core.evidence import format_number

    return "–" if value is None else format_number(value)


def _open_existing(db: str | None) -> Any:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from scoring.store.db import Store, current_revision, database_url, head_revision

    u = make_url(database_url(db))
    if u.get_backend_name() == "sqlite" and not (u.database and Path(u.database).is_file()):
        raise InputError(Problem("no_database", f"chưa có cơ sở dữ liệu '{db or u.database}'", subject="--db",
                                 hint="chạy 'parindex serve' và tải lên một bản tự chấm trước, hoặc chỉ đúng --db"))
    store = Store.open(db, upgrade=False)
    current = current_revision(store.engine)
    if current != head_revision():
        store.close()
        raise InputError(Problem("database_outdated", f"cơ sở dữ liệu ở phiên bản '{current or 'trống'}', "
                                 f"phiên bản mới nhất là '{head_revision()}'", subject="--db",
                                 hint="chạy 'parindex db upgrade' trước"))
    return store


def cmd_history(args: argparse.Namespace) -> int:
    from scoring.store import queries as q
    from scoring.store.history import history_data

    store = _open_existing(args.db)
    try:
        with store.sessions() as s:
            deps = list(q.departments(s))
            if args.department:
                chosen = [d for d in deps if d.key == q.department_key(args.department)]
                if not chosen:
                    names = ", ".join(d.name for d in deps) or "(chưa có)"
                    raise InputError(Problem("unknown_department",
                                             f"không có đơn vị '{args.department}' trong cơ sở dữ liệu",
                                             subject="--department", hint=f"các đơn vị đã lưu: {names}"))
            else:
                chosen = deps
            if not chosen:
                sys.stdout.write("Chưa có bản đánh giá nào được lưu.\n")
                return 0
            out: list[str] = []
            for dep in chosen:
                rows = q.history(s, dep.id)
                out += _lines(dep.name, rows, history_data(rows)) + [""]
        sys.stdout.write("\n".join(out).rstrip() + "\n")
    finally:
        store.close()
    return 0


def _lines(name: str, rows: list[Any], data: dict[str, Any]) -> list[str]:
    from scoring.store.queries import ROUNDS

    lines = [f"LỊCH SỬ CHỈ SỐ CCHC – {name}", ""]
    fields = data["fields"]
    head = f"{'Năm':<6}{'Vòng':<20}{'Tổng điểm':>12}{'Chỉ số':>9}  " + "".join(f"{'LV ' + f['code']:>7}" for f in fields)
    lines += [head, "─" * len(head)]
    for i, a in enumerate(rows):
        lines.append(f"{a.year:<6}{ROUNDS.get(a.round, a.round):<20}{_pts(a.points) + '/' + _pts(a.max_points):>12}"
                     f"{_pts(a.percent) + '%':>9}  " + "".join(f"{_pts(f['points'][i]):>7}" for f in fields)
                     + (f"  {a.band}" if a.band else ""))
    if data["changed"]:
        years = data["years"]
        lines += ["", f"Thay đổi so với năm trước ({years[-2]} → {years[-1]}):"]
        for c in data["changed"]:
            d = c["delta"]
            delta = (f" ({'+' if d > 0 else '−'}{_pts(abs(d))})" if d else " (tài liệu thay đổi)")
            lines.append(f"  {c['code']:<7} {_pts(c['before'])} → {_pts(c['after'])}{delta}  {c['title']}")
    return lines


def register(subparsers: Any) -> None:
    """Add ``history`` to the command line."""
    p = subparsers.add_parser("history", help="lịch sử điểm qua các năm từ cơ sở dữ liệu của ứng dụng web "
                                              "(history)")
    db_option(p)
    p.add_argument("--department", metavar="NAME", help="tên đơn vị (mặc định: mọi đơn vị đã lưu)")
    p.set_defaults(func=cmd_history)
