"""``parindex serve``, ``parindex history`` and ``parindex db upgrade``: the web application's commands."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .errors import InputError, Problem

MB = 1024 * 1024


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH|URL",
                   help="tệp SQLite hoặc địa chỉ SQLAlchemy (postgresql+psycopg://…); mặc định: tệp parindex.db "
                        "trong thư mục dữ liệu của người dùng")


def cmd_serve(args: argparse.Namespace) -> int:
    from .web.config import WebConfig

    if not 0 < args.port < 65536:
        raise InputError(Problem("bad_port", f"cổng {args.port} không hợp lệ", subject="--port",
                                 hint="một số từ 1 đến 65535, ví dụ 8765"))
    import uvicorn

    from .store.db import Store
    from .web.app import create_app

    from .web.server import check_accounts, to_env

    config = WebConfig(db=args.db, host=args.host, port=args.port,
                       max_evidence_bytes=int(args.max_evidence_mb * MB),
                       max_dossier_bytes=int(args.max_dossier_mb * MB),
                       extra_hosts=tuple(h.lower() for h in args.allowed_host), https_proxy=args.https_proxy,
                       session_idle_hours=args.session_hours)
    if args.workers < 1 or args.session_hours <= 0:
        raise InputError(Problem("bad_option", "--workers và --session-hours phải lớn hơn 0", subject="--workers"))
    store = Store.open(args.db)  # migrations run here, once, before any worker starts
    accounts = check_accounts(store, config)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    sys.stderr.write(f"parindex đang chạy: mở http://{shown_host}:{args.port}/ trong trình duyệt.\n"
                     f"Cơ sở dữ liệu: {store.shown_url}\nTệp đã tải lên: {store.files.folder}\n"
                     + (f"Tài khoản: {accounts} (cần đăng nhập); {args.workers} tiến trình phục vụ.\n" if accounts else "")
                     + "Nhấn Ctrl+C để dừng.\n")
    sys.stderr.flush()
    options: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": "warning", "access_log": False,
                               "server_header": False, "proxy_headers": args.https_proxy}
    if args.workers > 1:
        import os

        store.close()
        os.environ.update(to_env(config))
        os.environ["PARINDEX_MIGRATED"] = "1"
        uvicorn.run("scoring.web.server:app_from_env", factory=True, workers=args.workers, **options)
        return 0
    uvicorn.run(create_app(config, store), **options)
    return 0


def _open_existing(db: str | None) -> Any:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from .store.db import Store, current_revision, database_url, head_revision

    url = database_url(db)
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and not (u.database and Path(u.database).is_file()):
        raise InputError(Problem("no_database", f"chưa có cơ sở dữ liệu '{u.database}'", subject="--db",
                                 hint="chạy 'parindex serve' và tải lên một bản tự chấm trước, hoặc chỉ đúng --db"))
    store = Store.open(db, upgrade=False)
    current = current_revision(store.engine)
    if current != head_revision():
        raise InputError(Problem("database_outdated", f"cơ sở dữ liệu ở phiên bản '{current or 'trống'}', "
                                 f"phiên bản mới nhất là '{head_revision()}'", subject="--db",
                                 hint="chạy 'parindex db upgrade' trước"))
    return store


def cmd_history(args: argparse.Namespace) -> int:
    from .store.db import Store
    from .web.config import WebConfig
    from .web.service import Service, history_data

    store: Store = _open_existing(args.db)
    try:
        svc = Service(store, WebConfig(db=args.db))
        deps = svc.departments()
        if args.department:
            chosen = [d for d in deps if d.key == _key(args.department)]
            if not chosen:
                names = ", ".join(d.name for d in deps) or "(chưa có)"
                raise InputError(Problem("unknown_department", f"không có đơn vị '{args.department}' trong cơ sở dữ liệu",
                                         subject="--department", hint=f"các đơn vị đã lưu: {names}"))
        else:
            chosen = deps
        if not chosen:
            sys.stdout.write("Chưa có bản đánh giá nào được lưu.\n")
            return 0
        out: list[str] = []
        for dep in chosen:
            _dep, rows = svc.history(dep.name)
            out += _history_lines(dep.name, rows, history_data(rows))
            out.append("")
        sys.stdout.write("\n".join(out).rstrip() + "\n")
    finally:
        store.close()
    return 0


def _key(name: str) -> str:
    from .store.queries import department_key

    return department_key(name)


def _history_lines(name: str, rows: list[Any], data: dict[str, Any]) -> list[str]:
    from .store.queries import ROUNDS
    from .web.views.common import pts, signed

    lines = [f"LỊCH SỬ CHỈ SỐ CCHC – {name}", ""]
    fields = data["fields"]
    head = f"{'Năm':<6}{'Vòng':<20}{'Tổng điểm':>12}{'Chỉ số':>9}  " + "".join(f"{'LV ' + f['code']:>7}" for f in fields)
    lines += [head, "─" * len(head)]
    for i, a in enumerate(rows):
        lines.append(f"{a.year:<6}{ROUNDS.get(a.round, a.round):<20}{pts(a.points) + '/' + pts(a.max_points):>12}"
                     f"{pts(a.percent) + '%':>9}  " + "".join(f"{pts(f['points'][i]):>7}" for f in fields)
                     + (f"  {a.band}" if a.band else ""))
    if data["changed"]:
        years = data["years"]
        lines += ["", f"Thay đổi so với năm trước ({years[-2]} → {years[-1]}):"]
        for c in data["changed"]:
            delta = f" ({signed(c['delta'])})" if c["delta"] else " (tài liệu thay đổi)"
            lines.append(f"  {c['code']:<7} {pts(c['before'])} → {pts(c['after'])}{delta}  {c['title']}")
    return lines


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from .store.db import Store, current_revision, head_revision, migrate

    store = Store.open(args.db, upgrade=False)
    try:
        before = migrate(store.engine)
        after = current_revision(store.engine)
    finally:
        store.close()
    if before == after:
        sys.stderr.write(f"Cơ sở dữ liệu {store.shown_url} đã ở phiên bản mới nhất ({head_revision()}).\n")
    else:
        sys.stderr.write(f"Đã nâng cấp cơ sở dữ liệu {store.shown_url}: {before or 'trống'} → {after}.\n")
    return 0


def register(subparsers: Any) -> None:
    """Add ``serve``, ``history`` and ``db`` to the command line."""
    p = subparsers.add_parser("serve", help="mở ứng dụng web cho Văn phòng trên máy này (web application)",
                              description="Mở ứng dụng web: tải lên bản tự chấm, xem bảng điểm, điểm bị mất, "
                                          "nếu … thì, rà soát, các vòng thẩm định và lịch sử trong trình duyệt.")
    p.add_argument("--host", default="127.0.0.1",
                   help="địa chỉ lắng nghe (mặc định 127.0.0.1; địa chỉ khác, ví dụ 0.0.0.0, cần ít nhất một tài "
                        "khoản: parindex user add)")
    p.add_argument("--port", type=int, default=8765, help="cổng (mặc định 8765)")
    _db_option(p)
    p.add_argument("--max-evidence-mb", type=float, default=20, metavar="MB",
                   help="giới hạn tệp kiểm chứng, ánh xạ, danh mục, thẩm định (mặc định 20 MB)")
    p.add_argument("--max-dossier-mb", type=float, default=500, metavar="MB",
                   help="giới hạn tệp hồ sơ một cửa (mặc định 500 MB)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="số tiến trình phục vụ (mặc định 1; máy nhiều nhân: bằng số nhân)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="TÊN",
                   help="tên máy chủ người dùng gõ trên trình duyệt (tiêu đề Host), ví dụ parindex.snv.langson.gov.vn; "
                        "lặp lại được")
    p.add_argument("--https-proxy", action="store_true",
                   help="HTTPS kết thúc ở proxy phía trước (nginx…): cookie đăng nhập chỉ gửi qua HTTPS (Secure)")
    p.add_argument("--session-hours", type=float, default=8, metavar="GIỜ",
                   help="phiên đăng nhập hết hạn sau chừng này giờ không dùng (mặc định 8)")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser("history", help="lịch sử điểm qua các năm từ cơ sở dữ liệu của ứng dụng web "
                                              "(history)")
    _db_option(p)
    p.add_argument("--department", metavar="NAME", help="tên đơn vị (mặc định: mọi đơn vị đã lưu)")
    p.set_defaults(func=cmd_history)

    p = subparsers.add_parser("db", help="quản lý cơ sở dữ liệu của ứng dụng web (database)")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="LỆNH", parser_class=type(p))
    u = dsub.add_parser("upgrade", help="nâng cấp cơ sở dữ liệu lên phiên bản mới nhất (migrate)")
    _db_option(u)
    u.set_defaults(func=cmd_db_upgrade)
    from .cli_users import register_db_backup

    register_db_backup(dsub)
