"""What the pages and the HTTP API do: call ``scoring.api``, keep the results in the store.

Uploaded bytes are written (content-addressed) before the database transaction; the assessment and
everything it refers to are then stored in ONE transaction, so a failed upload stores nothing a page
can reach.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event

from scoring import api

from ..store import queries as q
from ..store.actor import visible_departments
from ..store.db import Store
from ..store.files import sniff
from ..store.models import Appraisal, Assessment
from .bundles import bundle_for
from .config import WebConfig
from .offload import Offload
from .security import Upload

#: Kinds of file each upload field accepts (sniffed from the bytes).
ACCEPTED = {"evidence": ("yaml", "xlsx"), "dossiers": ("csv", "xlsx"), "mapping": ("yaml",),
            "procedures": ("csv", "xlsx"), "peers": ("yaml", "csv"), "appraisal": ("csv", "xlsx"),
            "options": ("yaml",)}
FIELD_VI = {"evidence": "tệp tài liệu kiểm chứng", "dossiers": "tệp hồ sơ một cửa", "mapping": "tệp ánh xạ cột",
            "procedures": "danh mục TTHC", "peers": "kết quả các đơn vị khác", "appraisal": "kết quả thẩm định",
            "options": "tệp phương án cải thiện"}
#: Targets of the plan form: the keyword of ``api.plan`` and how the value is read.
PLAN_TARGETS = {"percent": "chỉ số (%)", "points": "tổng điểm", "rank": "thứ hạng", "budget": "công sức tối đa"}
KIND_VI = {"yaml": "YAML", "xlsx": "Excel (.xlsx)", "csv": "CSV"}


@dataclass
class Loaded:
    """An assessment ready to work with: bundle, evidence (dossier figures merged), scorecard, peers."""

    bundle: Any
    evidence: Any
    card: Any
    peers: Any
    shown: dict[str, str]  # stored file path → the name the clerk uploaded
    cells: dict[str, dict[str, str]]  # workbook evidence: code → {evidence name / document: 'Sheet'!cell}
    dossier_file: Path | None = None  # the stored dossier export (its reference is not a scanned document)
    #: rendered parts of pages that depend on nothing but this assessment (template name → HTML)
    fragments: dict[str, str] = field(default_factory=dict)


class WebError(Exception):
    """A problem of the request itself (status 400, 404, 413, 422)."""

    def __init__(self, status: int, problems: list[api.Problem]):
        super().__init__(problems[0].message if problems else "")
        self.status = status
        self.problems = problems


def _renamed(exc: api.ParindexError, shown: dict[str, str]) -> api.ParindexError:
    out = []
    for p in exc.problems:
        msg = p.message
        for real, name in shown.items():
            msg = msg.replace(real, name)
        out.append(replace(p, file=shown.get(p.file or "", p.file), message=msg))
    return exc.with_problems(out)


def _as_text(text: str, shown: dict[str, str]) -> str:
    for real, name in shown.items():
        text = text.replace(json.dumps(real)[1:-1], json.dumps(name, ensure_ascii=False)[1:-1])
    return text


def _nodes(card: Any) -> list[q.NodeRow]:
    return [q.NodeRow(n.code, n.level, n.title, n.points, n.max_points, n.outcome,
                      "\n".join(e.text for e in n.evidence)) for n in card.nodes]


#: assessments kept parsed and scored per worker process; a page of one not kept re-reads its stored
#: files and scores again (~70 ms). A province's server has tens of departments, each a few rounds.
LOADED_CACHE = 256


def scorecard_json(card: Any, peers: Any, shown: dict[str, str]) -> str:
    """Exactly `parindex score … --format json` (with `--peers`: the rank too), with the uploaded names."""
    position = api.rank(card, peers) if peers is not None else None
    text = api.render_scorecard(card, "json", rank=position)
    assert isinstance(text, str)
    return _as_text(text, shown)


def prepare_files(criteria_dir: Path | None, rules_dir: Path | None, paths: dict[str, Path], names: dict[str, str],
                  with_json: bool) -> tuple[Any, Any, Any, dict[str, dict[str, str]], str | None]:
    """(evidence, scorecard, peers, evidence cells, JSON or None) from stored files; problems name the files
    as uploaded. Runs in the server's helper process (offload.py): arguments and results are pickled."""
    shown = {str(path): names[field] for field, path in paths.items()}
    try:
        ev_path = paths["evidence"]
        ev = api.load_evidence(ev_path, filename=names["evidence"], criteria_dir=criteria_dir, rules_dir=rules_dir)
        bundle = bundle_for(criteria_dir, rules_dir, ev.criteria_set)
        if "dossiers" in paths:
            ev = api.evidence_with_dossiers(bundle, ev, api.DossierInputs(
                dossiers=paths["dossiers"], mapping=paths.get("mapping"), procedures=paths.get("procedures")))
        card = api.score(bundle, ev)
        peers = api.load_peers(paths["peers"], ev.department, ev.year) if "peers" in paths else None
    except api.ParindexError as exc:
        raise _renamed(exc, shown) from None
    return ev, card, peers, api.evidence_cells(ev_path), scorecard_json(card, peers, shown) if with_json else None


class Service:
    def __init__(self, store: Store, config: WebConfig, offload: Offload | None = None):
        self.store = store
        self.config = config
        self.offload = offload or Offload(0)
        self._loaded: OrderedDict[int, Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._rows: dict[int, Assessment] = {}  # see ``get``
        # a change committed by this process shows in its next ranking at once (another worker's after
        # at most ``province.FRESH_SECONDS``)
        event.listen(store.sessions, "after_commit", lambda _s: self._ranking_changed())
        #: (year, round) → (store version, when read, ranking rows, changed here since)
        self.ranking_cache: dict[tuple[int, str], tuple[Any, float, list[Any], bool]] = {}

    def _ranking_changed(self) -> None:
        for key, (version, when, rows, _) in list(self.ranking_cache.items()):
            self.ranking_cache[key] = (version, when, rows, True)

    # -------------------------------------------------------------- helpers

    def bundle(self, set_id: str | None) -> Any:
        return bundle_for(self.config.criteria_dir, self.config.rules_dir, set_id)

    def template(self, department: str | None = None) -> bytes:
        return api.template(self.bundle(None), department)

    def _put(self, up: Upload) -> tuple[str, str, Path]:
        accepted = ACCEPTED[up.field]
        kind = sniff(up.data, accepted)
        if kind not in accepted:
            raise WebError(422, [api.Problem(
                "wrong_file_type",
                f"{FIELD_VI[up.field]} '{up.name}' không phải tệp "
                + " hoặc ".join(KIND_VI[k] for k in accepted) + " (nhận diện theo nội dung tệp)",
                file=up.name, subject=up.field,
                hint="chọn đúng tệp; bảng tính phải lưu dạng Excel Workbook (.xlsx), văn bản dạng UTF-8")])
        sha, path = self.store.files.put(up.data, kind)
        return sha, kind, path

    def _prepare(self, files: dict[str, tuple[str, Path]], names: dict[str, str],
                 with_json: bool = False) -> tuple[Loaded, str | None]:
        """Load and score from stored files (paths), the way `parindex score` does, in the helper process
        (offload.py); with ``with_json`` also the scorecard's JSON (``scorecard_json``)."""
        paths = {f: path for f, (_sha, path) in files.items()}
        ev, card, peers, cells, text = self.offload.run(prepare_files, self.config.criteria_dir,
                                                        self.config.rules_dir, paths, names, with_json)
        lo = Loaded(self.bundle(ev.criteria_set), ev, card, peers, {str(p): names[f] for f, p in paths.items()},
                    cells, paths.get("dossiers"))
        return lo, text

    def scorecard_json(self, lo: Loaded) -> str:
        return scorecard_json(lo.card, lo.peers, lo.shown)

    def _remember(self, assessment_id: int, lo: Loaded) -> None:
        with self._lock:
            self._loaded[assessment_id] = lo
            self._loaded.move_to_end(assessment_id)
            while len(self._loaded) > LOADED_CACHE:
                self._loaded.popitem(last=False)

    # -------------------------------------------------------------- assessments

    def create_assessment(self, uploads: dict[str, Upload], round: str = "tu_cham",
                          author: str | None = None) -> Assessment:
        if round not in q.ROUNDS:
            raise WebError(400, [api.Problem("unknown_round", f"vòng '{round}' không có",
                                             subject="round", hint="một trong: " + ", ".join(q.ROUNDS))])
        if "evidence" not in uploads:
            raise WebError(400, [api.Problem("evidence_required", "chưa chọn tệp tài liệu kiểm chứng",
                                             subject="evidence",
                                             hint="chọn bảng tính kiểm chứng (.xlsx) hoặc tệp .yaml")])
        if "dossiers" not in uploads and ("mapping" in uploads or "procedures" in uploads):
            raise WebError(400, [api.Problem("dossiers_required", "tệp ánh xạ cột / danh mục TTHC chỉ dùng kèm "
                                             "tệp hồ sơ một cửa", subject="dossiers", hint="chọn cả tệp hồ sơ")])
        stored = {f: self._put(up) for f, up in uploads.items() if f in ACCEPTED and f not in ("appraisal", "options")}
        names = {f: up.name for f, up in uploads.items()}
        lo, text = self._prepare({f: (sha, path) for f, (sha, _k, path) in stored.items()}, names, with_json=True)
        assert text is not None
        card = lo.card
        with self.offload.lane, self.store.sessions.begin() as s:
            dep = q.department_for(s, card.department)
            cs = q.criteria_set_for(s, card.criteria_set, card.criteria_title, card.points_status)
            for f, up in uploads.items():
                if f in stored:
                    q.file_row(s, stored[f][0], stored[f][1], len(up.data))
            a = q.add_assessment(
                s, department=dep, criteria_set=cs, year=card.year, round=round, author=author,
                evidence_sha=stored["evidence"][0], evidence_name=names["evidence"], points=card.total.points,
                max_points=card.total.max_points, percent=card.total.percent, band=card.total.band,
                scorecard_json=text, nodes=_nodes(card),
                **{f"{f}_sha": stored[f][0] for f in ("dossiers", "mapping", "procedures", "peers") if f in stored})
        self._remember(a.id, lo)
        return a

    def get(self, assessment_id: int) -> Assessment:
        """One stored assessment the current actor may see, else 404. Rows are never changed once stored,
        so a row read once is kept (with its department and criteria set) and only the check is redone."""
        a = self._rows.get(assessment_id)
        if a is None:
            with self.store.reads() as s:
                a = q.get_assessment(s, assessment_id)
            if a is not None:
                if len(self._rows) >= 10_000:
                    self._rows.clear()
                self._rows[assessment_id] = a
        seen = visible_departments()
        if a is not None and seen is not None and a.department_id not in seen:
            a = None
        if a is None:
            raise WebError(404, [api.Problem("not_found", f"không có bản đánh giá số {assessment_id}",
                                             subject=str(assessment_id), hint="mở Trang chủ để xem danh sách")])
        return a

    def stored_json(self, assessment_id: int) -> str:
        """The stored scorecard JSON (``get`` leaves it out); the caller has checked who may see it."""
        with self.store.reads() as s:
            return q.scorecard_json(s, assessment_id)

    def loaded(self, a: Assessment) -> Loaded:
        with self._lock:
            lo = self._loaded.get(a.id)
            if lo is not None:
                self._loaded.move_to_end(a.id)
                return lo
        files: dict[str, tuple[str, Path]] = {}
        names = {"evidence": a.evidence_name}
        with self.store.sessions() as s:
            for f in ("evidence", "dossiers", "mapping", "procedures", "peers"):
                row = q.get_file(s, getattr(a, f"{f}_sha"))
                if row is not None:
                    files[f] = (row.sha256, self.store.files.path(row.sha256, row.kind))
                    names.setdefault(f, f)
        lo, _ = self._prepare(files, names)
        self._remember(a.id, lo)
        return lo

    def list(self, department: str | None = None) -> list[Assessment]:
        with self.store.sessions() as s:
            if department:
                dep = q.find_department(s, department)
                return [] if dep is None else list(q.assessments(s, dep.id, visible_departments()))
            return list(q.assessments(s, department_ids=visible_departments()))

    def departments(self) -> list[Any]:
        seen = visible_departments()
        with self.store.sessions() as s:
            return [d for d in q.departments(s) if seen is None or d.id in seen]

    # -------------------------------------------------------------- analysis

    def whatif(self, a: Assessment, sets: list[str]) -> tuple[Any, str]:
        lo = self.loaded(a)
        try:
            result = api.whatif(lo.bundle, lo.evidence, sets, lo.peers, before=lo.card)
        except api.ParindexError as exc:
            raise _renamed(exc, lo.shown) from None
        return result, _as_text(api.to_json(result), lo.shown)

    def explain(self, a: Assessment) -> dict[str, Any]:
        return api.explain(self.loaded(a).card)

    def audit(self, a: Assessment) -> Any:
        lo = self.loaded(a)
        return api.audit(lo.bundle, lo.evidence, dossier_file=lo.dossier_file)

    def export(self, a: Assessment, fmt: str) -> str | bytes:
        lo = self.loaded(a)
        if fmt == "json":
            return self.stored_json(a.id)
        return api.render_scorecard(lo.card, fmt)  # type: ignore[arg-type]

    def save_scenario(self, a: Assessment, name: str, sets: list[str], author: str | None = None) -> Any:
        result, _text = self.whatif(a, sets)
        after = result.data["after"]
        with self.store.sessions.begin() as s:
            return q.add_scenario(s, assessment=a, name=name, sets=json.dumps(sets, ensure_ascii=False),
                                  points=after["points"], percent=after["percent"], band=after["band"], author=author)

    def scenarios(self, a: Assessment) -> list[Any]:
        with self.store.sessions() as s:
            return list(q.scenarios(s, a.id))

    def plan(self, a: Assessment, up: Upload, mode: str, value: str) -> dict[str, Any]:
        """The least-effort plan for one target, as `parindex plan … --format json` gives it."""
        if mode not in PLAN_TARGETS:
            raise WebError(400, [api.Problem("unknown_target", f"không có mục tiêu '{mode}'", subject="target",
                                             hint="một trong: " + ", ".join(PLAN_TARGETS))])
        text = value.strip().replace(",", ".").rstrip("%").strip()
        try:
            number: Any = int(text) if mode == "rank" else Decimal(text)
        except (ArithmeticError, ValueError):
            raise WebError(422, [api.Problem("bad_target", f"{PLAN_TARGETS[mode]} '{value}' không phải là số",
                                             subject="target_value", hint="ví dụ 90 hoặc 92,5")]) from None
        lo = self.loaded(a)
        if mode == "rank" and lo.peers is None:
            raise WebError(422, [api.Problem("peers_required", "mục tiêu thứ hạng cần kết quả của các đơn vị khác",
                                             subject="target", hint="tải lên lại bản tự chấm kèm tệp xếp hạng")])
        sha, kind, path = self._put(up)
        with self.store.sessions.begin() as s:
            q.file_row(s, sha, kind, len(up.data))
        shown = {**lo.shown, str(path): up.name}
        try:
            result = api.plan(lo.bundle, lo.evidence, path, peers=lo.peers, **{mode: number})
        except api.ParindexError as exc:
            raise _renamed(exc, shown) from None
        return json.loads(_as_text(api.to_json(result), shown))

    # -------------------------------------------------------------- rounds

    def add_appraisal(self, a: Assessment, round: str, up: Upload, author: str | None = None) -> Appraisal:
        if round not in q.ROUNDS or round == "tu_cham":
            raise WebError(400, [api.Problem("unknown_round", f"vòng '{round}' không nhận điểm thẩm định",
                                             subject="round",
                                             hint="một trong: " + ", ".join(r for r in q.ROUNDS if r != "tu_cham"))])
        lo = self.loaded(a)
        sha, kind, path = self._put(up)
        shown = {**lo.shown, str(path): up.name}
        try:
            cmp = api.compare(lo.bundle, lo.evidence, path, dossier_file=lo.dossier_file)
        except api.ParindexError as exc:
            raise _renamed(exc, shown) from None
        text = _as_text(api.to_json(cmp), shown)
        points = [(r, d.code, p) for d in cmp.differences for r, p in sorted(d.rounds.items())]
        with self.store.sessions.begin() as s:
            q.file_row(s, sha, kind, len(up.data))
            return q.add_appraisal(s, assessment=a, round=round, file_sha=sha, file_name=up.name, author=author,
                                   final_points=cmp.final_total, comparison_json=text, points=points,
                                   drafts=[(d.code, d.draft) for d in cmp.differences])

    def appraisals(self, a: Assessment) -> list[Appraisal]:
        with self.store.sessions() as s:
            return list(q.appraisals(s, a.id))

    def appraisal(self, a: Assessment, appraisal_id: int) -> Appraisal:
        with self.store.sessions() as s:
            ap = q.get_appraisal(s, a.id, appraisal_id)
        if ap is None:
            raise WebError(404, [api.Problem("not_found", f"không có kết quả thẩm định số {appraisal_id}")])
        return ap

    def set_explanation(self, a: Assessment, appraisal_id: int, code: str, text: str) -> None:
        with self.store.sessions.begin() as s:
            ap = q.get_appraisal(s, a.id, appraisal_id)
            if ap is None or q.set_explanation(s, ap, code, text.strip()) is None:
                raise WebError(404, [api.Problem("not_found", f"không có giải trình cho {code}")])

    def explanation_docx(self, a: Assessment, appraisal_id: int) -> bytes:
        ap = self.appraisal(a, appraisal_id)
        data = json.loads(ap.comparison_json)
        texts = {e.code: e.text for e in ap.explanations}
        return api.explanation_docx(data, texts, q.ROUNDS[ap.round])

    # -------------------------------------------------------------- history

    def history(self, department: str) -> tuple[Any, list[Assessment]]:
        with self.store.sessions() as s:
            dep = q.find_department(s, department)
            seen = visible_departments()
            if dep is None or (seen is not None and dep.id not in seen):
                return None, []
            return dep, q.history(s, dep.id)
