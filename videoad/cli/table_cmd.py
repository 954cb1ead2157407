"""`videoad table`: the detector core on a user's own table or folder of pictures (`videoad.table`)."""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import click

from videoad.detector.seeds import SEED_MAX

from .settings import NonBlankText, NonEmptyPath, check_output_folder, config_options, refuse_given


class PictureSize(click.ParamType):
    """WxH, each from 1 to 4096 pixels."""

    name = "WxH"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        m = re.fullmatch(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*", str(value))
        if not m or not all(1 <= int(g) <= 4096 for g in m.groups()):
            self.fail(f"{value!r} is not WxH (e.g. 28x28), each from 1 to 4096 pixels.", param, ctx)
        return int(m.group(1)), int(m.group(2))


def _full_settings(params: dict) -> dict:
    """DUAD's every constructor argument with `params` laid over (what the fit uses), without the
    seed and the contamination, which the options give."""
    from videoad.detector.duad import DUAD

    full = DUAD(**params).get_params()
    for key in ("random_state", "contamination"):
        full.pop(key, None)
    return full


@click.command("table")
@click.argument("input_path", metavar="INPUT", type=NonEmptyPath(exists=True, path_type=Path))
@click.option("-o", "--output", type=NonEmptyPath(file_okay=False, path_type=Path), default=None,
              help="Folder to write scores.csv and run.json into.  [required]")
@click.option("--key", type=NonBlankText(), help="The array of an .npz that holds the table (needed when it holds several).")
@click.option("--id-column", type=NonBlankText(),
              help="A column carried to scores.csv as each row's id, not fitted (an .npy/.npz column by its index).")
@click.option("--label-column", type=NonBlankText(),
              help="A 0/1 column (1 = anomaly), not fitted: AUROC/AUPRC of DUAD and of PCA, kNN and Isolation "
                   "Forest fitted in the same run are printed.")
@click.option("--one-hot", "one_hot", multiple=True, type=NonBlankText(),
              help="A text column to encode as one 0/1 column per value (repeat for several); other text is refused.")
@click.option("--size", type=PictureSize(), default=None,
              help="Resize every picture to WxH (needed when they differ in size).")
@click.option("--fit-on", type=NonEmptyPath(exists=True, path_type=Path), default=None,
              help="Fit on these rows (same columns, or pictures) and score INPUT (inductive); the scaling and the "
                   "threshold come from them.")
@click.option("--model", "model_dir", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path), default=None,
              help="Score INPUT with a model saved by --save-model: its scaling, settings and threshold.")
@click.option("--save-model", type=NonEmptyPath(file_okay=False, path_type=Path), default=None,
              help="Also save the fitted model with its scaling and threshold here, for --model.")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), default=None, help="Seed of every fit.  [default: 0]")
@click.option("--contamination", type=click.FloatRange(0, 0.5, min_open=True), default=None,
              help="Flag this share of the fitted rows' highest scores (the threshold is that quantile) "
                   "[default: flag above median + 4 robust standard deviations of the fitted rows' scores; where most "
                   "scores tie, so that spread is under 1% of their range, the 95th percentile].")
@config_options("a `duad:` section of DUAD arguments, laid over the defaults")
def table(input_path, output, key, id_column, label_column, one_hot, size, fit_on, model_dir, save_model, seed,
          contamination, config, print_config):
    """Anomaly scores for the rows of your own table or folder of pictures, with DUAD.

    INPUT is a CSV with a header, a 2-D .npy, an .npz (--key), or a folder of pictures (each one
    row: grey or RGB as all of them are, pixels in [0, 1]). Table columns are min-max scaled over
    the fitted rows, as the KDDCUP99 protocol scales them (a column of one value becomes 0). DUAD
    runs with videoad/defaults/table.yaml on a table (see docs/defaults.md), with the packaged image
    settings (videoad/defaults/mnist.yaml for grey pictures, cifar10.yaml for colour) on pictures.
    Writes OUT/scores.csv (row from 0, id, score, flagged) and OUT/run.json.

    Exit status: 0 done; 1 an error, named (the input, the config, an unwritable -o); 2 a wrong
    option or an -o that is an input or another command's output; 130 stopped with Ctrl-C
    (a rerun writes the folder again).
    """
    from videoad import output_kinds, table as tb

    ctx = click.get_current_context()
    pictures = tb.is_pictures(input_path)
    if pictures:
        refuse_given(ctx, ("key", "id_column", "label_column", "one_hot"),
                     "INPUT is a folder of pictures: each picture is a row, named by its file")
    else:
        refuse_given(ctx, ("size",), "INPUT is a table, not a folder of pictures")
    if model_dir is not None:
        refuse_given(ctx, ("fit_on", "config", "save_model", "seed", "one_hot", "size"),
                     "--model scores with the saved model's own fit, settings, columns and size")
    if fit_on is not None and tb.is_pictures(fit_on) != pictures:
        raise click.UsageError(f"--fit-on {fit_on} is {'a folder of pictures' if not pictures else 'a table'}, INPUT "
                               f"{input_path} is not: fit on rows of the same kind")
    seed = 0 if seed is None else seed
    try:
        user = tb.read_settings(config) if config is not None else {}
        if print_config:
            from videoad.config import dump

            kind = tb.Rows(None, [], input_path, "pictures" if pictures else "table",
                           picture={"channels": _picture_channels(input_path)} if pictures else None)
            base, _ = tb.default_settings(kind)
            click.echo(dump({"duad": _full_settings({**base, **user})}), nl=False)
            return
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        raise click.UsageError("Missing option '-o' / '--output'.", ctx)
    inputs = {"INPUT": input_path, "--fit-on": fit_on, "--model": model_dir}
    check_output_folder(output, output_kinds.TABLE, inputs)
    try:
        tb.check_output_files(output, {k: v for k, v in inputs.items() if k != "--model"})
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if save_model is not None:
        check_output_folder(save_model, output_kinds.TABLE_MODEL, {**inputs, "-o": output}, "--save-model")
    from videoad.output_lock import output_lock

    command = "videoad " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        with output_lock(*([output] + ([save_model] if save_model is not None else [])), command="videoad table"):
            _run(tb, input_path, output, dict(key=key, id_column=id_column, label_column=label_column,
                                               one_hot=one_hot, size=size), fit_on, model_dir, save_model, seed,
                 contamination, user, config, command)
    except (ValueError, OSError) as exc:  # the input's, the config's, a busy or unwritable folder's: named
        raise click.ClickException(str(exc)) from None


def _picture_channels(folder: Path) -> int:
    from videoad import table as tb

    return tb.read_rows(folder).picture["channels"]


def _run(tb, input_path, output, read, fit_on, model_dir, save_model, seed, contamination, user, config, command):
    import numpy as np

    from videoad import __version__

    if model_dir is not None:
        index, det, fit_scores = tb.load_model(model_dir)
        # the fit's id and label columns, where the file has them and no option names others
        taken = {k: index.get(k) for k in ("id_column", "label_column") if read[k] is None and index.get(k)}
        rows = tb.read_rows(input_path, **{**read, "one_hot": (), **taken}, like=index, optional=tuple(taken))
        read = {**read, "id_column": read["id_column"] or (taken.get("id_column") if rows.ids is not None else None),
                "label_column": read["label_column"] or (taken.get("label_column") if rows.labels is not None else None)}
        tb.checked(rows, fit=False)
        scaling, params, seed = index["scaling"], index["settings"], index["seed"]
        fit_rows = X_fit = X_score = None  # no fit here: no baselines either
        scores = np.asarray(det.decision_function(tb.apply_scaling(rows.X, scaling)), dtype=np.float64)
        line = index["threshold"] if contamination is None else tb.threshold(fit_scores, contamination)
        source = f"the model in {model_dir}"
    else:
        fit_rows = tb.read_rows(fit_on if fit_on is not None else input_path, **read, optional=fit_on is not None)
        tb.checked(fit_rows, fit=True)
        rows = fit_rows if fit_on is None else tb.read_rows(input_path, **{**read, "one_hot": ()},
                                                            like={**tb.encoding(fit_rows),
                                                                  "fitted_on": {"path": str(fit_on)}})
        if fit_on is not None:
            tb.checked(rows, fit=False)
        scaling = tb.fit_scaling(fit_rows)
        X_fit = tb.apply_scaling(fit_rows.X, scaling)
        base, source = tb.default_settings(fit_rows)
        params = {**base, **user}
        if user:
            source += f", with {config}'s duad section over it"
        try:
            det = tb.fit_duad(X_fit, params, seed)
        except ValueError as exc:
            raise tb.TableError(f"{fit_rows.source}: DUAD could not be fitted on its {X_fit.shape[0]} rows: {exc}") from None
        fit_scores = np.asarray(det.decision_scores_, dtype=np.float64)
        X_score = None if fit_on is None else tb.apply_scaling(rows.X, scaling)  # None: the fitted rows
        scores = fit_scores if X_score is None else np.asarray(det.decision_function(X_score), dtype=np.float64)
        line = tb.threshold(fit_scores, contamination)
    flagged = scores > line["value"]
    results = {}
    if rows.labels is not None:
        results["DUAD"] = tb.metrics(rows.labels, scores)
        if fit_rows is not None:
            for label, got in tb.baselines(X_fit, X_score, seed).items():
                results[label] = tb.metrics(rows.labels, got) if not isinstance(got, str) else got
    settings = _full_settings(params)
    run = {"format": tb.FORMAT, "command": command, "version": __version__,
           "input": {"path": str(input_path), "sha256": tb.digest(input_path), "kind": rows.kind,
                     "rows": int(rows.X.shape[0])},
           "fit_on": None if fit_on is None else {"path": str(fit_on), "sha256": tb.digest(fit_on),
                                                  "rows": int(fit_rows.X.shape[0])},
           "model": None if model_dir is None else str(model_dir),
           "transductive": fit_on is None and model_dir is None,
           "columns": rows.columns if rows.kind == "table" else f"{len(rows.columns)} pixels",
           "id_column": read["id_column"] if rows.ids is not None and rows.kind == "table" else None,
           "label_column": read["label_column"] if rows.labels is not None else None,
           "one_hot": rows.one_hot, "picture": rows.picture,
           "scaling": scaling, "settings": settings, "settings_from": source, "seed": seed,
           "threshold": line, "flagged": int(flagged.sum()), "notes": rows.notes,
           "metrics": {k: (v if isinstance(v, str) else {"auroc": _num(v[0]), "auprc": _num(v[1])})
                       for k, v in results.items()}}
    if model_dir is None:
        run["fit"] = {"stop_reason": getattr(det, "stop_reason_", None),
                      "reselections": getattr(det, "n_reselections_", None)}
    if save_model is not None:
        tb.save_model(save_model, det, fit_rows, scaling, line, fit_scores,
                      {"settings": params, "seed": seed, "version": __version__, "id_column": read["id_column"],
                       "label_column": read["label_column"],
                       "fitted_on": {"path": str(fit_rows.source), "sha256": run["fit_on"]["sha256"] if fit_on
                                     else run["input"]["sha256"], "rows": int(fit_rows.X.shape[0])}})
    tb.write_output(output, rows, scores, flagged, run)
    _summary(rows, scores, flagged, line, results, run, output, save_model)


def _num(v: float):
    return None if v != v else round(float(v), 6)


def _summary(rows, scores, flagged, line, results, run, output, save_model) -> None:
    import numpy as np

    how = ("fitted on these rows (transductive)" if run["transductive"] else
           f"fitted on {run['fit_on']['path']} ({run['fit_on']['rows']} rows, inductive)" if run["fit_on"] else
           f"scored with the model in {run['model']}")
    width = len(rows.columns)
    click.echo(f"{rows.X.shape[0]} rows, {width} {'columns' if rows.kind == 'table' else 'pixels'} from "
               f"{rows.source}; DUAD {how}")
    for note in rows.notes:
        click.echo(f"note: {note}")
    click.echo(f"flagged {int(flagged.sum())} of {flagged.size} rows: score above {line['value']:.6g}, {line['said']}")
    top = np.argsort(-scores, kind="stable")[:5]
    click.echo("top 5: " + ", ".join(f"row {i}" + (f" ({rows.ids[i]})" if rows.ids is not None else "")
                                     + f" {scores[i]:.4g}" for i in top))
    if results:
        shown = [f"{name} {v[0] * 100:.2f} / {v[1] * 100:.2f}" if not isinstance(v, str) else f"{name}: {v}"
                 for name, v in results.items()]
        click.echo(f"AUROC / AUPRC (%) against {run['label_column']!r}: " + "; ".join(shown))
        if run["model"]:
            click.echo("(baselines are fitted only when this command fits: not with --model)")
    click.echo(f"wrote {output / 'scores.csv'} and {output / 'run.json'}"
               + (f"; model in {save_model}" if save_model is not None else ""))
