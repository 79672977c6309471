"""``parindex user add|list|disable|password`` and ``parindex db backup``: the province server's accounts
and the SQLite backup, from the terminal of the machine that runs the server."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from scoring.core.errors import InputError, Problem

ROLE_CHOICES = ("clerk", "leader", "appraiser", "admin")


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH|URL",
                   help="tệp SQLite hoặc địa chỉ SQLAlchemy (postgresql+psycopg://…), như của 'parindex serve'")


def _password_from_stdin(args: argparse.Namespace) -> str:
    from scoring.store.passwords import password_problem

    if not args.password_stdin:
        raise InputError(Problem("password_stdin_required", "cần --password-stdin: mật khẩu đọc từ đầu vào chuẩn",
                                 subject="--password-stdin",
                                 hint="ví dụ: printf '%s' \"$MAT_KHAU\" | parindex user add ... --password-stdin "
                                      "(không ghi mật khẩu trên dòng lệnh: nó nằm lại trong lịch sử lệnh)"))
    password = sys.stdin.readline().rstrip("\r\n")
    why = password_problem(password)
    if why:
        raise InputError(Problem("weak_password", why, subject="--password-stdin",
                                 hint="chọn mật khẩu dài ít nhất 10 ký tự, dễ nhớ với người dùng nhưng khó đoán"))
    return password


def _store(db: str | None) -> Any:
    from scoring.store.db import Store

    store = Store.open(db)  # migrations run, as for serve
    from scoring.store.audit import watch

    watch(store)  # the CLI's changes go into the audit log too (actor cli:<os user>)
    return store


def _user(s: Any, username: str) -> Any:
    from scoring.store import accounts as acc

    u = acc.find_user(s, username)
    if u is None:
        names = ", ".join(x.username for x in acc.users(s)) or "(chưa có)"
        raise InputError(Problem("unknown_user", f"không có tài khoản '{username}'", subject=username,
                                 hint=f"các tài khoản: {names}"))
    return u


def cmd_user_add(args: argparse.Namespace) -> int:
    from scoring.store import accounts as acc
    from scoring.store import queries as q
    from scoring.store.passwords import hash_password

    if args.role in acc.DEPARTMENT_ROLES and not args.department:
        raise InputError(Problem("department_required", f"vai trò {args.role} cần --department (tên đơn vị)",
                                 subject="--department",
                                 hint="tên đơn vị đúng như trong tệp kiểm chứng, ví dụ --department \"Sở Tư pháp tỉnh Lạng Sơn\""))
    name = args.username.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise InputError(Problem("bad_username", f"tên đăng nhập '{args.username}' không hợp lệ", subject="USERNAME",
                                 hint="1–100 ký tự, không có dấu cách, ví dụ stp.vanphong"))
    password = _password_from_stdin(args)
    store = _store(args.db)
    try:
        with store.sessions.begin() as s:
            if acc.find_user(s, name) is not None:
                raise InputError(Problem("user_exists", f"đã có tài khoản '{name}'", subject=name,
                                         hint="đổi mật khẩu: parindex user password; khoá: parindex user disable"))
            dep = q.department_for(s, args.department) if args.department else None
            acc.add_user(s, name, args.role, hash_password(password), dep)
    finally:
        store.close()
    sys.stderr.write(f"Đã tạo tài khoản '{name}' ({acc.ROLES[args.role]}"
                     + (f", đơn vị {dep.name}" if dep else "") + f") trong {store.shown_url}.\n")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from scoring.store import accounts as acc

    store = _store(args.db)
    try:
        with store.sessions() as s:
            rows = acc.users(s)
            if not rows:
                sys.stdout.write("Chưa có tài khoản nào. Tạo: parindex user add TÊN --role admin --password-stdin\n")
                return 0
            lines = [f"{'Tài khoản':<24}{'Vai trò':<26}{'Trạng thái':<14}Đơn vị"]
            for u in rows:
                state = "đã khoá" if u.disabled_at else "đang dùng"
                lines.append(f"{u.username:<24}{acc.ROLES.get(u.role, u.role):<26}{state:<14}"
                             f"{u.department.name if u.department else '–'}")
    finally:
        store.close()
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    from scoring.store import accounts as acc
    from scoring.store.models import utcnow

    store = _store(args.db)
    try:
        with store.sessions.begin() as s:
            u = _user(s, args.username)
            if u.disabled_at is None:
                u.disabled_at = utcnow()
            ended = acc.revoke_sessions(s, u.id)
    finally:
        store.close()
    sys.stderr.write(f"Đã khoá tài khoản '{args.username}' (kết thúc {ended} phiên đăng nhập). "
                     "Tài khoản không bị xoá: nhật ký vẫn ghi tên người đã làm.\n")
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    from scoring.store import accounts as acc
    from scoring.store.models import utcnow
    from scoring.store.passwords import hash_password

    password = _password_from_stdin(args)
    store = _store(args.db)
    try:
        with store.sessions.begin() as s:
            u = _user(s, args.username)
            u.password_hash = hash_password(password)
            u.password_changed_at = utcnow()
            if args.enable:
                u.disabled_at = None
            ended = acc.revoke_sessions(s, u.id)
    finally:
        store.close()
    sys.stderr.write(f"Đã đặt mật khẩu mới cho '{args.username}' (kết thúc {ended} phiên đăng nhập cũ).\n")
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    """A consistent copy of a SQLite database while the server runs (sqlite3's online backup API)."""
    from sqlalchemy.engine import make_url

    from scoring.store.db import database_url

    url = make_url(database_url(args.db))
    if url.get_backend_name() != "sqlite":
        raise InputError(Problem("backup_postgresql", "cơ sở dữ liệu là PostgreSQL: sao lưu bằng pg_dump",
                                 subject="--db", hint="ví dụ: pg_dump -Fc -f parindex-$(date +%F).dump parindex "
                                                      "(xem docs/server.md)"))
    source = Path(url.database or "")
    if not source.is_file():
        raise InputError(Problem("no_database", f"chưa có cơ sở dữ liệu '{source}'", subject="--db",
                                 hint="chỉ đúng --db của máy chủ"))
    target = Path(args.file)
    if target.exists() and not args.force:
        raise InputError(Problem("backup_exists", f"tệp '{target}' đã có", subject="FILE",
                                 hint="chọn tên khác (ví dụ có ngày tháng) hoặc thêm --force để ghi đè"))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        tmp.unlink(missing_ok=True)
        raise InputError(Problem("backup_damaged", f"bản sao không qua kiểm tra toàn vẹn: {check}"))
    tmp.replace(target)
    files = source.with_name(source.stem + "-files")
    sys.stderr.write(f"Đã sao lưu {source} → {target} (kiểm tra toàn vẹn: ok).\n"
                     f"Nhớ sao lưu cả thư mục tệp đã tải lên: {files} (tệp không bao giờ bị sửa, chép thêm là đủ).\n")
    return 0


def register_db_backup(dsub: Any) -> None:
    b = dsub.add_parser("backup", help="sao lưu cơ sở dữ liệu SQLite khi máy chủ đang chạy (backup)")
    b.add_argument("file", metavar="FILE", help="tệp sao lưu sẽ tạo")
    _db_option(b)
    b.add_argument("--force", action="store_true", help="ghi đè FILE nếu đã có")
    b.set_defaults(func=cmd_db_backup)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("user", help="tài khoản của máy chủ cấp tỉnh (accounts)",
                              description="Tạo, liệt kê, khoá tài khoản và đặt lại mật khẩu. Vai trò: clerk "
                                          "(chuyên viên đơn vị), leader (lãnh đạo đơn vị: nộp bài), appraiser "
                                          "(Sở Nội vụ: nhập điểm thẩm định, xem xếp hạng), admin (quản trị).")
    sub = p.add_subparsers(dest="user_command", required=True, metavar="LỆNH", parser_class=type(p))
    a = sub.add_parser("add", help="tạo tài khoản")
    a.add_argument("username", metavar="USERNAME", help="tên đăng nhập")
    a.add_argument("--role", required=True, choices=ROLE_CHOICES, help="vai trò")
    a.add_argument("--department", metavar="NAME", help="đơn vị (bắt buộc với clerk và leader)")
    a.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ đầu vào chuẩn (một dòng)")
    _db_option(a)
    a.set_defaults(func=cmd_user_add)
    ls = sub.add_parser("list", help="liệt kê tài khoản")
    _db_option(ls)
    ls.set_defaults(func=cmd_user_list)
    d = sub.add_parser("disable", help="khoá tài khoản (không xoá) và kết thúc các phiên đăng nhập")
    d.add_argument("username", metavar="USERNAME")
    _db_option(d)
    d.set_defaults(func=cmd_user_disable)
    pw = sub.add_parser("password", help="đặt mật khẩu mới (kết thúc các phiên đăng nhập cũ)")
    pw.add_argument("username", metavar="USERNAME")
    pw.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ đầu vào chuẩn (một dòng)")
    pw.add_argument("--enable", action="store_true", help="mở lại tài khoản đã khoá")
    _db_option(pw)
    pw.set_defaults(func=cmd_user_password)
