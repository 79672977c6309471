"""``parindex serve`` (the web application on this machine) and ``parindex db upgrade``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from scoring.core.errors import InputError, Problem

MB = 1024 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WEB_CONFIG = "PARINDEX_WEB_CONFIG"  # JSON of the web application's settings, for each worker process


def db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH|URL",
                   help="tệp SQLite hoặc địa chỉ SQLAlchemy (postgresql+psycopg://…); mặc định: tệp parindex.db "
                        "trong thư mục dữ liệu của người dùng")


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise InputError(Problem("bad_port", f"cổng {args.port} không hợp lệ", subject="--port",
                                 hint="một số từ 1 đến 65535, ví dụ 8765"))
    for flag, value in (("--max-evidence-mb", args.max_evidence_mb), ("--max-dossier-mb", args.max_dossier_mb)):
        if not value > 0:
            raise InputError(Problem("bad_limit", f"{flag} {value:g} không hợp lệ", subject=flag,
                                     hint="một số MB lớn hơn 0"))
    if args.workers < 1 or not args.session_hours > 0:
        raise InputError(Problem("bad_option", "--workers và --session-hours phải lớn hơn 0", subject="--workers",
                                 hint="ví dụ --workers 2 --session-hours 8"))
    if args.helpers < 0:
        raise InputError(Problem("bad_option", f"--helpers {args.helpers} không hợp lệ", subject="--helpers",
                                 hint="0 (làm tại chỗ) hoặc 1"))
    import uvicorn

    from sqlalchemy.engine import make_url

    from scoring.store import accounts as acc
    from scoring.store.db import Store, database_url

    network = args.host.strip("[]").lower() not in LOOPBACK
    url = make_url(database_url(args.db))
    if network and url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        _refuse(args, url.render_as_string(hide_password=True))  # never create an empty database only to refuse
    store = Store.open(args.db)  # migrations run here, once, before any worker starts
    try:
        shown_db, files = store.shown_url, store.files.folder
        with store.sessions() as s:
            accounts = acc.count_users(s)
    finally:
        store.close()
    if network and accounts == 0:
        _refuse(args, shown_db)
    # the settings of every worker process (scoring.web.server.from_env reads them; WebConfig's fields)
    os.environ[WEB_CONFIG] = json.dumps({
        "db": args.db, "host": args.host, "port": args.port, "max_evidence_bytes": int(args.max_evidence_mb * MB),
        "max_dossier_bytes": int(args.max_dossier_mb * MB), "extra_hosts": [h.lower() for h in args.allowed_host],
        "https_proxy": args.https_proxy, "session_idle_hours": args.session_hours,
        "helpers": args.helpers}, ensure_ascii=False)
    os.environ["PARINDEX_MIGRATED"] = "1"
    host = f"[{args.host}]" if ":" in args.host else args.host
    sys.stderr.write(f"parindex đang chạy: mở http://{host}:{args.port}/ trong trình duyệt.\n"
                     f"Cơ sở dữ liệu: {shown_db}\nTệp đã tải lên: {files}\n"
                     + (f"Tài khoản: {accounts} (cần đăng nhập); {args.workers} tiến trình phục vụ.\n" if accounts else "")
                     + "Nhấn Ctrl+C để dừng.\n")
    sys.stderr.flush()
    # imported by name in each worker process (settings from the environment, see scoring/web/server.py)
    uvicorn.run("scoring.web.server:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers if args.workers > 1 else None, log_level="warning", access_log=False,
                server_header=False, proxy_headers=args.https_proxy)
    return 0


def _refuse(args: argparse.Namespace, shown_db: str) -> None:
    db = f" --db {args.db}" if args.db else ""
    raise InputError(Problem(
        "host_needs_accounts",
        f"không mở máy chủ trên địa chỉ '{args.host}': cơ sở dữ liệu {args.db or shown_db} chưa có tài khoản nào, ai trong "
        "mạng cũng sẽ vào được",
        subject="--host",
        hint=f"tạo tài khoản quản trị trước: printf '%s' \"$MAT_KHAU\" | parindex user add quantri --role admin "
             f"--password-stdin{db} (rồi thêm tài khoản cho từng đơn vị); hoặc bỏ --host để chỉ dùng trên máy này"))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from scoring.store.db import Store, current_revision, head_revision, migrate

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
    """Add ``serve`` and ``db`` to the command line."""
    p = subparsers.add_parser("serve", help="mở ứng dụng web cho Văn phòng trên máy này (web application)",
                              description="Mở ứng dụng web: tải lên bản tự chấm, xem bảng điểm, điểm bị mất, "
                                          "nếu … thì, rà soát, các vòng thẩm định và lịch sử trong trình duyệt.")
    p.add_argument("--host", default="127.0.0.1",
                   help="địa chỉ lắng nghe (mặc định 127.0.0.1; địa chỉ khác, ví dụ 0.0.0.0, cần ít nhất một tài "
                        "khoản: parindex user add)")
    p.add_argument("--port", type=int, default=8765, help="cổng (mặc định 8765)")
    db_option(p)
    p.add_argument("--max-evidence-mb", type=float, default=20, metavar="MB",
                   help="giới hạn tệp kiểm chứng, ánh xạ, danh mục, thẩm định (mặc định 20 MB)")
    p.add_argument("--max-dossier-mb", type=float, default=500, metavar="MB",
                   help="giới hạn tệp hồ sơ một cửa (mặc định 500 MB)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="số tiến trình phục vụ (mặc định 1; máy nhiều nhân: bằng số nhân)")
    p.add_argument("--helpers", type=int, default=1, metavar="N",
                   help="số tiến trình phụ của mỗi tiến trình phục vụ, chạy ở mức ưu tiên thấp hơn việc đọc và chấm tệp "
                        "tải lên và kiểm tra mật khẩu, để các trang vẫn mở nhanh khi nhiều người tải lên "
                        "(mặc định 1; 0: làm ngay trong tiến trình phục vụ, ít bộ nhớ hơn)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="TÊN",
                   help="tên máy chủ người dùng gõ trên trình duyệt (tiêu đề Host), ví dụ parindex.snv.langson.gov.vn; "
                        "lặp lại được")
    p.add_argument("--https-proxy", action="store_true",
                   help="HTTPS kết thúc ở proxy phía trước (nginx…): cookie đăng nhập chỉ gửi qua HTTPS (Secure)")
    p.add_argument("--session-hours", type=float, default=8, metavar="GIỜ",
                   help="phiên đăng nhập hết hạn sau chừng này giờ không dùng (mặc định 8)")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser("db", help="quản lý cơ sở dữ liệu của ứng dụng web (database)")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="LỆNH", parser_class=type(p))
    u = dsub.add_parser("upgrade", help="nâng cấp cơ sở dữ liệu lên phiên bản mới nhất (migrate)")
    db_option(u)
    u.set_defaults(func=cmd_db_upgrade)
    from scoring.cli.users import register_db_backup

    register_db_backup(dsub)
