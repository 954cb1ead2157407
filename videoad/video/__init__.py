"""Detection over a feature store: group the videos, fit one detector per group, score the clips.

Transductive (the paper's UCF-Crime protocol): each group is fitted on its own clips and those
same clips are scored, with no labels anywhere. Groups are one video (``per-video``), one
category (``per-category``: the annotation file's class, else the store folder the video sits
in) or everything (``pooled``). Groups with fewer than ``min_clips`` clips are skipped with the
reason written to the scores (the paper kept videos of at least 65 clips).

Inductive: fit on one store (the normal history of a camera, the unlabeled training split) and
score another with the fitted models: in one go (`fit_and_score`), or saved and reloaded later
(`detect(..., save_models=DIR)`, then `score(features, DIR)`). Each group's fitted model (rows,
feature transform, seed ensemble, alarm line) is one `videoad.group_model.GroupModel`.

Groups are fitted in parallel worker processes (joblib); each worker reads its own videos from
the store and seeds its detector from the run seed and the group's name, so a group's scores do
not depend on the number of workers or on which other groups are in the run.
"""
from videoad.group_model import (ALARMS, CELL_AGGREGATES, LEVELS, PREPROCESS, GroupModel,  # noqa: F401
                                 aggregate_cells, apply_preprocess, fit_preprocess, make_detector, resolve_level)
from videoad.group_model import rows as group_rows  # noqa: F401
from videoad.video.config import (DUAD_BY_FEATURES, FEATURE_KINDS, MODES, DetectConfig,  # noqa: F401
                                  config_text, detector_params, feature_kind, load_config, run_config,
                                  with_device)
from videoad.video.groups import categories, group_seed, make_groups, open_store  # noqa: F401
from videoad.video.run import MODELS_INDEX, check_saving, detect, extraction_record, fit_and_score, score  # noqa: F401

__all__ = ["DetectConfig", "load_config", "run_config", "config_text", "with_device", "detect", "fit_and_score", "score",
           "check_saving",
           "feature_kind",
           "detector_params", "make_groups", "categories", "open_store", "group_seed", "extraction_record",
           "make_detector", "fit_preprocess", "apply_preprocess", "group_rows", "aggregate_cells", "resolve_level"]
