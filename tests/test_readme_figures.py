"""The README's KDDCUP99 and images tables are copies of the results files' summaries: each cell equals
the JSON's mean ± std rounded to two places. A rerun that rewrote benchmarks/results/ without the
README, or a hand edit of one cell, shows here (the README was rewritten short in 9bc379a and its
figures were checked by hand against these files)."""
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
RESULTS = REPO / "benchmarks" / "results"


def _section(title: str) -> str:
    start = README.index(f"### {title}")
    return README[start:README.index("\n### ", start + 1)]


def _table(text: str) -> list[list[str]]:
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip().strip("*").strip() for cell in row] for row in rows[1:]]  # header dropped


def _cell(summary: dict, metric: str) -> str:
    return f"{summary[metric + '_mean']:.2f} ± {summary[metric + '_std']:.2f}"


def test_the_kddcup_table_is_kddcup_json_summary():
    summary = {(s["setting"], s["method"]): s for s in json.loads((RESULTS / "kddcup.json").read_text())["summary"]}
    columns = ["DUAD", "PCA-4", "IsolationForest", "OC-SVM", "DAGMM"]
    rows = _table(_section("KDDCUP99"))
    assert len(rows) == 6
    for row in rows:
        setting, metric = row[0].split()
        for method, cell in zip(columns, row[1:6]):
            assert cell == _cell(summary[(setting, method)], metric.lower()), (row[0], method)


def test_the_images_table_is_the_table4_json_summaries():
    names = {"DUAD (`configs/mnist.yaml`, `configs/cifar10.yaml`: `restarts: 1`)": "DUAD",
             "DUAD, one fit (the paper; these configs before)": "DUAD (one fit)",
             "DUAD, paper's reselection rule": "DUAD (paper reselection)",
             "DUAD, `train_last_selection` (off by default)": "DUAD (train_last_selection)",
             "DUAD, `train_last_selection`, one fit": "DUAD (train_last_selection, one fit)",
             "Distribution Clustering alone": "DC alone", "PCA reconstruction": "PCA", "OC-SVM": "OC-SVM",
             "kNN distance": "kNN", "Isolation Forest": "IsolationForest"}
    summaries = {ds: {s["method"]: s for s in json.loads((RESULTS / f"images_{ds}_table4.json").read_text())["summary"]}
                 for ds in ("mnist", "cifar10")}
    rows = _table(_section("Images"))
    assert [row[0] for row in rows] == list(names)
    for row in rows:
        method = names[row[0]]
        expected = [_cell(summaries[ds][method], m) for ds in ("mnist", "cifar10") for m in ("auroc", "auprc")]
        assert row[1:5] == expected, row[0]


def test_the_seeds_1_to_4_figures_are_the_kddcup_json_records():
    """'seeds 1-4 alone give 97.66 / 84.97 at 20%': the mean of those seeds' DUAD records."""
    records = [r for r in json.loads((RESULTS / "kddcup.json").read_text())["records"]
               if r["method"] == "DUAD" and r["setting"] == "20%" and r["seed"] >= 1]
    assert len(records) == 4
    auroc, auprc = (sum(r[m] for r in records) / 4 for m in ("auroc", "auprc"))
    said = re.search(r"seeds 1-4 alone give (\d+\.\d\d) /\s+(\d+\.\d\d) at 20%", README)
    assert said and said.groups() == (f"{auroc:.2f}", f"{auprc:.2f}")
