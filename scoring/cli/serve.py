"""``parindex serve`` (the web application on this machine) and ``parindex db upgrade``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from scoring.core.errors import InputError, Problem

MB = 1024 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH|URL",
                   help="tệp SQLite hoặc địa chỉ SQLAlchemy (postgresql+psycopg://…); mặc định: tệp parindex.db "
                        "trong thư mục dữ liệu của người dùng")


def cmd_serve(args: argparse.Namespace) -> int:
    if args.host.strip("[]").lower() not in LOOPBACK:
        raise InputError(Problem(
            "host_needs_accounts",
            f"không mở máy chủ trên địa chỉ '{args.host}': phiên bản này chưa có tài khoản đăng nhập nên chỉ phục vụ "
            "trên chính máy này (127.0.0.1)",
            subject="--host",
            hint="bỏ --host để dùng 127.0.0.1; tài khoản, phân quyền và phục vụ cả tỉnh có ở phiên bản máy chủ "
                 "cấp tỉnh"))
    if not 0 < args.port < 65536:
        raise InputError(Problem("bad_port", f"cổng {args.port} không hợp lệ", subject="--port",
                                 hint="một số từ 1 đến 65535, ví dụ 8765"))
    for flag, value in (("--max-evidence-mb", args.max_evidence_mb), ("--max-dossier-mb", args.max_dossier_mb)):
        if not value > 0:
            raise InputError(Problem("bad_limit", f"{flag} {value:g} không hợp lệ", subject=flag,
                                     hint="một số MB lớn hơn 0"))
    import uvicorn

    from scoring.store.db import Store

    store = Store.open(args.db)  # migrations run here, before the first request
    shown_db, files = store.shown_url, store.files.folder
    store.close()
    os.environ.update({"PARINDEX_HOST": args.host, "PARINDEX_PORT": str(args.port),
                       "PARINDEX_MAX_EVIDENCE_BYTES": str(int(args.max_evidence_mb * MB)),
                       "PARINDEX_MAX_DOSSIER_BYTES": str(int(args.max_dossier_mb * MB))})
    if args.db:
        os.environ["PARINDEX_DB"] = args.db
    host = f"[{args.host}]" if ":" in args.host else args.host
    sys.stderr.write(f"parindex đang chạy: mở http://{host}:{args.port}/ trong trình duyệt.\n"
                     f"Cơ sở dữ liệu: {shown_db}\nTệp đã tải lên: {files}\nNhấn Ctrl+C để dừng.\n")
    sys.stderr.flush()
    uvicorn.run("scoring.web.app:app_from_environment", factory=True, host=args.host, port=args.port,
                log_level="warning", access_log=False, server_header=False)
    return 0


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
                   help="địa chỉ lắng nghe (mặc định 127.0.0.1; địa chỉ khác cần tài khoản của phiên bản máy chủ "
                        "cấp tỉnh)")
    p.add_argument("--port", type=int, default=8765, help="cổng (mặc định 8765)")
    db_option(p)
    p.add_argument("--max-evidence-mb", type=float, default=20, metavar="MB",
                   help="giới hạn tệp kiểm chứng, ánh xạ, danh mục, thẩm định (mặc định 20 MB)")
    p.add_argument("--max-dossier-mb", type=float, default=500, metavar="MB",
                   help="giới hạn tệp hồ sơ một cửa (mặc định 500 MB)")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser("db", help="quản lý cơ sở dữ liệu của ứng dụng web (database)")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="LỆNH", parser_class=type(p))
    u = dsub.add_parser("upgrade", help="nâng cấp cơ sở dữ liệu lên phiên bản mới nhất (migrate)")
    db_option(u)
    u.set_defaults(func=cmd_db_upgrade)
