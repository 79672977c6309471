"""Seeded generator of realistic one-stop dossier exports (constructed data, never real dossiers).

Run: .venv/bin/python benchmarks/gen_dossiers.py --rows 1000000 [--seed 2025] [--headers vi|canonical]
     [-o FILE] [--procedures-out FILE]

The default output goes to benchmarks/data/ (git-ignored: never commit generated large files).
What it draws, per dossier: a procedure (each with its own statutory deadline, fee and online
status, unit), a reception time in the year (1 % in the December before, to exercise the period
filter), supplement requests (a few asked more than once), paused days, a result date (about 1 %
finished after the effective deadline), unfinished dossiers (received late in the year, or stuck),
1 % withdrawn, the channel, full-online submission, digitisation, re-use, fees paid online and
apology letters for most late dossiers. About 2 % of the counted dossiers end up late.

With ``--headers vi`` the columns carry Vietnamese headers ("Mã hồ sơ", "Ngày tiếp nhận"…), dates
are day-first (``15/03/2025 08:15``) and yes/no cells mix x/blank, Có/Không and 1/0, as real
exports do; read it with sample_evidence/dossiers/mapping-lang-son.yaml. With ``--headers
canonical`` it writes parindex's canonical columns with ISO dates and true/false.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "benchmarks" / "data"


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    unit: str
    deadline_days: int
    fee: int  # VND; 0 = no fee
    eligible: bool  # eligible for a full-process online service
    offered: bool  # offered as a full-process online service
    weight: float  # share of the dossiers


HC, BT, TG = "Phòng Hành chính tư pháp", "Phòng Bổ trợ tư pháp", "Trung tâm Trợ giúp pháp lý nhà nước"

#: Constructed catalogue (codes, deadlines and fees are illustrative, not the official ones).
PROCEDURES: tuple[Procedure, ...] = (
    Procedure("STP-LLTP-01", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam", HC, 10, 200000, True, True, 0.52),
    Procedure("STP-LLTP-02", "Cấp Phiếu lý lịch tư pháp cho cơ quan tiến hành tố tụng", HC, 10, 0, True, True, 0.08),
    Procedure("STP-HT-01", "Cấp bản sao trích lục hộ tịch", HC, 1, 8000, True, True, 0.07),
    Procedure("STP-QT-01", "Cấp Giấy xác nhận có quốc tịch Việt Nam ở trong nước", HC, 15, 100000, False, False, 0.01),
    Procedure("STP-QT-02", "Cấp Giấy xác nhận là người gốc Việt Nam", HC, 15, 100000, False, False, 0.01),
    Procedure("STP-CC-01", "Đăng ký hoạt động Văn phòng công chứng", BT, 10, 1000000, True, True, 0.03),
    Procedure("STP-CC-02", "Thay đổi nội dung đăng ký hoạt động Văn phòng công chứng", BT, 5, 500000, True, True, 0.04),
    Procedure("STP-CC-03", "Đăng ký hành nghề và cấp Thẻ công chứng viên", BT, 5, 0, True, False, 0.03),
    Procedure("STP-LS-01", "Đăng ký hoạt động của tổ chức hành nghề luật sư", BT, 10, 100000, True, False, 0.03),
    Procedure("STP-DG-01", "Đăng ký hoạt động của doanh nghiệp đấu giá tài sản", BT, 7, 1000000, True, True, 0.02),
    Procedure("STP-QTV-01", "Đăng ký hành nghề quản tài viên với tư cách cá nhân", BT, 7, 0, True, True, 0.01),
    Procedure("STP-GD-01", "Bổ nhiệm giám định viên tư pháp", BT, 20, 0, False, False, 0.01),
    Procedure("STP-TV-01", "Cấp giấy đăng ký hoạt động của Trung tâm tư vấn pháp luật", BT, 10, 0, True, False, 0.01),
    Procedure("STP-TG-01", "Yêu cầu trợ giúp pháp lý", TG, 3, 0, True, True, 0.13),
)

CANONICAL = ["dossier_id", "procedure_code", "unit", "received_at", "due_at", "finished_at", "channel", "full_online",
             "supplement_requests", "paused_days", "withdrawn", "digitised", "result_digitised", "reused_data",
             "fee_required", "paid_online", "apology_sent"]

#: Vietnamese headers, as in sample_evidence/dossiers/mapping-lang-son.yaml ("Tên thủ tục" is not mapped).
VI_HEADERS = {
    "dossier_id": "Mã hồ sơ", "procedure_code": "Mã thủ tục", "procedure_name": "Tên thủ tục",
    "unit": "Đơn vị xử lý", "received_at": "Ngày tiếp nhận", "due_at": "Ngày hẹn trả",
    "finished_at": "Ngày có kết quả", "channel": "Hình thức nộp", "full_online": "Nộp trực tuyến toàn trình",
    "supplement_requests": "Số lần yêu cầu bổ sung", "paused_days": "Số ngày tạm dừng", "withdrawn": "Rút hồ sơ",
    "digitised": "Số hóa thành phần hồ sơ", "result_digitised": "Số hóa kết quả",
    "reused_data": "Tái sử dụng dữ liệu số hóa", "fee_required": "Phải nộp phí, lệ phí",
    "paid_online": "Thanh toán trực tuyến", "apology_sent": "Đã có văn bản xin lỗi",
}
VI_CHANNEL = {"online": "Trực tuyến", "direct": "Trực tiếp", "postal": "Dịch vụ bưu chính công ích"}


CHUNK = 1_000_000  # rows generated and written at a time: a 10 M-row frame of texts would need over 10 GB


def generate(rows: int, seed: int | list[int] = 2025, year: int = 2025, first: int = 1, width: int = 0) -> pd.DataFrame:
    """A frame of ``rows`` dossiers with typed columns (datetime64, bool, int); deterministic per seed.

    Ids are numbered from ``first``, zero-padded to ``width`` digits (default: the digits of ``rows``).
    """
    rng = np.random.default_rng(seed)
    n = rows
    weights = np.array([p.weight for p in PROCEDURES], dtype=float)
    pidx = rng.choice(len(PROCEDURES), size=n, p=weights / weights.sum())
    deadline = np.array([p.deadline_days for p in PROCEDURES])[pidx]
    fee = np.array([p.fee for p in PROCEDURES])[pidx]
    offered = np.array([p.offered for p in PROCEDURES])[pidx]

    start = np.datetime64(f"{year}-01-01", "D")
    end = np.datetime64(f"{year}-12-31", "D")
    day = rng.integers(0, 365, n)
    before = rng.random(n) < 0.01  # received in the December before the period
    day = np.where(before, -rng.integers(1, 32, n), day)
    received_day = start + day.astype("timedelta64[D]")
    received_minute = rng.integers(7 * 60 + 30, 17 * 60, n)
    received = received_day + received_minute.astype("timedelta64[m]")
    due_day = received_day + deadline.astype("timedelta64[D]")
    due = due_day + np.timedelta64(17 * 60, "m")

    supplements = rng.choice([0, 1, 2, 3], size=n, p=[0.905, 0.087, 0.006, 0.002])
    paused = np.where(supplements > 0, rng.integers(1, 9, n), 0)
    allowed = deadline + paused
    late = rng.random(n) < 0.011
    duration = np.where(late, allowed + rng.integers(1, 11, n), np.floor(rng.random(n) * (allowed + 1)).astype(int))
    finished_day = received_day + duration.astype("timedelta64[D]")
    finish_minute = np.where(duration == 0, rng.integers(received_minute + 5, 18 * 60 + 1),
                             rng.integers(7 * 60 + 30, 17 * 60, n))
    finished = finished_day + finish_minute.astype("timedelta64[m]")
    withdrawn = rng.random(n) < 0.01
    stuck = rng.random(n) < 0.0015  # never finished, often long past the deadline
    unfinished = (finished_day > end) | withdrawn | stuck
    finished = np.where(unfinished, np.datetime64("NaT"), finished)

    channel = rng.choice(np.array(["online", "direct", "postal"]), size=n, p=[0.55, 0.40, 0.05])
    online = channel == "online"
    full_online = online & offered & (rng.random(n) < 0.85)
    digitised = rng.random(n) < 0.88
    result_digitised = ~unfinished & (rng.random(n) < 0.92)
    reused = rng.random(n) < 0.52
    fee_required = fee > 0
    paid_online = fee_required & np.where(online, rng.random(n) < 0.75, rng.random(n) < 0.15)
    is_late = (supplements > 1) | late | (stuck & (finished_day > received_day))
    apology = is_late & (rng.random(n) < 0.85)

    width = width or len(str(n))
    ids = pd.Series(np.arange(first, first + n)).map(lambda i: f"000.00.24.H33-{year % 100:02d}{i:0{width}d}")
    return pd.DataFrame({
        "dossier_id": ids, "procedure_code": np.array([p.code for p in PROCEDURES])[pidx],
        "procedure_name": np.array([p.name for p in PROCEDURES])[pidx], "unit": np.array([p.unit for p in PROCEDURES])[pidx],
        "received_at": received, "due_at": due, "finished_at": finished, "channel": channel, "full_online": full_online,
        "supplement_requests": supplements, "paused_days": paused, "withdrawn": withdrawn, "digitised": digitised,
        "result_digitised": result_digitised, "reused_data": reused, "fee_required": fee_required,
        "paid_online": paid_online, "apology_sent": apology,
    })


def _dates(values: pd.Series, fmt: str) -> pd.Series:
    return values.dt.strftime(fmt).fillna("")


def to_export(frame: pd.DataFrame, headers: str) -> pd.DataFrame:
    """The frame as the text columns of an export: Vietnamese (``vi``) or canonical headers."""
    out = pd.DataFrame()
    if headers == "canonical":
        for col in CANONICAL:
            series = frame[col]
            if col.endswith("_at"):
                out[col] = _dates(series, "%Y-%m-%d %H:%M:%S")
            elif series.dtype == bool:
                out[col] = np.where(series, "true", "false")
            else:
                out[col] = series
        return out
    yes_no = {  # how each yes/no column is written in this (constructed) export
        "full_online": ("x", ""), "withdrawn": ("Có", "Không"), "digitised": ("1", "0"), "result_digitised": ("1", "0"),
        "reused_data": ("x", ""), "fee_required": ("Có", "Không"), "paid_online": ("x", ""), "apology_sent": ("Có", ""),
    }
    for col, header in VI_HEADERS.items():
        series = frame[col]
        if col.endswith("_at"):
            out[header] = _dates(series, "%d/%m/%Y %H:%M")
        elif col in yes_no:
            yes, no = yes_no[col]
            out[header] = np.where(series, yes, no)
        elif col == "channel":
            out[header] = series.map(VI_CHANNEL)
        else:
            out[header] = series
    return out


def catalogue(headers: str) -> pd.DataFrame:
    """The procedure catalogue (for 7.3.2), canonical or Vietnamese headers."""
    rows = [{"procedure_code": p.code, "name": p.name, "full_online_eligible": p.eligible,
             "full_online_offered": p.offered, "fee": p.fee} for p in PROCEDURES]
    frame = pd.DataFrame(rows)
    if headers == "vi":
        frame = frame.rename(columns={"procedure_code": "Mã thủ tục", "name": "Tên thủ tục",
                                      "full_online_eligible": "Đủ điều kiện trực tuyến toàn trình",
                                      "full_online_offered": "Đã cung cấp trực tuyến toàn trình",
                                      "fee": "Phí, lệ phí (đồng)"})
        for col in ("Đủ điều kiện trực tuyến toàn trình", "Đã cung cấp trực tuyến toàn trình"):
            frame[col] = np.where(frame[col], "Có", "Không")
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--headers", choices=("vi", "canonical"), default="vi")
    parser.add_argument("-o", "--output", help="CSV to write (default: benchmarks/data/dossiers-ROWS-HEADERS.csv)")
    parser.add_argument("--procedures-out", help="also write the procedure catalogue CSV here")
    parser.add_argument("--title", help="a title line above the header (as many real exports have; read it with "
                                        "header_row: 2 in the mapping file)")
    args = parser.parse_args(argv)
    out = Path(args.output) if args.output else DEFAULT_DIR / f"dossiers-{args.rows}-{args.headers}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        if args.title:
            handle.write(args.title + "\n")
        if args.rows <= CHUNK:  # one frame (the files measured so far)
            export = to_export(generate(args.rows, args.seed, args.year), args.headers)
            export.to_csv(handle, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        else:  # chunk i drawn with the seed [seed, i]: same distributions, ids continue across chunks
            for i, first in enumerate(range(1, args.rows + 1, CHUNK)):
                n = min(CHUNK, args.rows + 1 - first)
                export = to_export(generate(n, [args.seed, i], args.year, first, len(str(args.rows))), args.headers)
                export.to_csv(handle, index=False, header=i == 0, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    print(f"wrote {out} ({args.rows} rows, {out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    if args.procedures_out:
        with open(args.procedures_out, "w", encoding="utf-8", newline="") as handle:
            if args.title:
                handle.write(args.title + "\n")
            catalogue(args.headers).to_csv(handle, index=False, lineterminator="\n")
        print(f"wrote {args.procedures_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
