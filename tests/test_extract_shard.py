"""`--shard i/N` + `videoad merge` (the SLURM-array path): a partition of the sorted video list
whose joined store equals an unsharded run, resumable per shard, failures carried into the merge."""
from __future__ import annotations

import json

import numpy as np
from _extract_media import make_video
from click.testing import CliRunner

from extract.manifest import read_store_manifest
from extract.store import FeatureStore
from videoad.cli.extract_cmd import extract as extract_cmd
from videoad.cli.extract_cmd import merge as merge_cmd

ARGS = ["--backbone-opt", "size=64x48", "--backbone-opt", "grid=2", "-q", "--recursive",
        "--workers", "1"]


def test_three_shards_partition_the_list_and_merge_into_the_unsharded_store(tmp_path):
    videos = tmp_path / "in"
    for i in range(7):
        make_video(videos / ("B" if i % 3 else "A") / f"{i:02d}.mp4", 20 + 8 * i)
    (videos / "A" / "zz.mp4").write_text("not a video\n")  # fails in whichever shard has it
    everything = sorted([f"{'B' if i % 3 else 'A'}/{i:02d}.mp4" for i in range(7)] + ["A/zz.mp4"])
    cli = CliRunner()
    ref = cli.invoke(extract_cmd, [str(videos), "-o", str(tmp_path / "ref"), *ARGS])
    assert ref.exit_code == 1 and "A/zz.mp4" in ref.output

    out = tmp_path / "out"
    codes, planned = [], []
    for i in range(3):
        run = cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", f"{i}/3", *ARGS])
        codes.append(run.exit_code)
        part = json.loads((out / f"manifest.shard-{i}-of-3.json").read_text())
        assert part["keys"] == everything[i::3] and part["complete"]
        assert sorted(part["videos"]) == part["keys"]
        planned += part["keys"]
    assert sorted(planned) == everything  # disjoint and complete
    assert codes == [1 if "A/zz.mp4" in everything[i::3] else 0 for i in range(3)]

    again = cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "1/3", *ARGS])
    assert f"0 done, {len(everything[1::3])} skipped" in again.output  # resumed, nothing redone

    merged = cli.invoke(merge_cmd, [str(out)])
    assert merged.exit_code == 1, merged.output  # merged, with the failure reported
    assert "merged 3 shards: 7 videos done, 1 failed" in merged.output
    assert "failed A/zz.mp4" in merged.output
    joined = json.loads((out / "manifest.json").read_text())
    assert joined["complete"] and joined["keys"] == everything and sorted(joined["videos"]) == everything
    assert joined["videos"]["A/zz.mp4"]["status"] == "failed"

    got, want = FeatureStore(out), FeatureStore(tmp_path / "ref")
    assert got.keys() == want.keys() == [k for k in everything if k != "A/zz.mp4"]
    for key in got.keys():
        np.testing.assert_array_equal(got.load(key).features, want.load(key).features)
        np.testing.assert_array_equal(got.load(key).frames, want.load(key).frames)
    assert read_store_manifest(got.root)["settings"] == read_store_manifest(want.root)["settings"]


def _two_shards(tmp_path):
    """Four short videos extracted as shards 0/2 and 1/2 into one store: (videos, store, runner)."""
    videos = tmp_path / "in"
    for i in range(4):
        make_video(videos / f"{i}.mp4", 20)
    out = tmp_path / "out"
    cli = CliRunner()
    for i in range(2):
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", f"{i}/2", *ARGS]).exit_code == 0
    return videos, out, cli


def test_merge_refuses_a_store_whose_shard_lost_a_file(tmp_path):
    videos, out, cli = _two_shards(tmp_path)
    (out / "2.mp4.h5").unlink()
    refused = cli.invoke(merge_cmd, [str(out)])
    assert refused.exit_code == 2 and "2.mp4 is listed as done but 2.mp4.h5 is missing" in refused.output
    assert not (out / "manifest.json").exists()
    # rerunning the shard that owns it restores the file; then the merge goes through
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/2", *ARGS]).exit_code == 0
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0


def test_merge_refuses_shards_that_saw_other_inputs_or_settings(tmp_path):
    """Shards whose inputs hold as many videos under other names (a file renamed between the shards'
    runs), or frame folders cut at another --image-fps, are not merged (they were)."""
    from _extract_media import make_frames

    videos = tmp_path / "in"
    for name in "abcd":
        make_video(videos / f"{name}.mp4", 20)
    out = tmp_path / "out"
    cli = CliRunner()
    cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "1/2", *ARGS])
    (videos / "d.mp4").rename(videos / "z.mp4")
    cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/2", *ARGS])
    res = cli.invoke(merge_cmd, [str(out)])
    assert res.exit_code == 2 and "saw a different video list (as many videos, other names" in res.output
    frames = tmp_path / "frames"
    for i in range(4):
        make_frames(frames / f"cam{i}", 40)
    out = tmp_path / "out-frames"
    for shard, fps in (("0/2", "10"), ("1/2", "30")):
        cli.invoke(extract_cmd, [str(frames), "-o", str(out), "--shard", shard, "--image-fps", fps, *ARGS])
    res = cli.invoke(merge_cmd, [str(out)])
    # the setting that differs is named (it said "different settings than the others", which left
    # the user to guess which to rerun with)
    assert res.exit_code == 2 and "shard 1/2 ran with different settings than shard 0/2 (" in res.output
    assert "10" in res.output.split("than shard 0/2 (")[1] and "30" in res.output.split("than shard 0/2 (")[1]



def test_merge_keeps_a_video_no_file_can_name_and_refuses_another_input_root(tmp_path):
    """A video whose name no feature file can take failed in its shard but was left out of the
    shard's keys: the merge dropped it and exited 0. Shards over two folders of the same names
    merged into one store claiming the first folder."""
    videos = tmp_path / "in"
    for name in ("a", "b", "c"):
        make_video(videos / f"{name}.mp4", 20)
    make_video(videos / "d\\x.mp4", 20)  # a backslash: no feature file name on every system
    out, cli = tmp_path / "out", CliRunner()
    codes = [cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", f"{i}/2", *ARGS]).exit_code
             for i in range(2)]
    assert sorted(codes) == [0, 1]
    merged = cli.invoke(merge_cmd, [str(out)])
    assert merged.exit_code == 1 and "3 videos done, 1 failed" in merged.output, merged.output
    joined = json.loads((out / "manifest.json").read_text())
    assert joined["videos"]["d\\x.mp4"]["status"] == "failed" and len(joined["keys"]) == 4

    # the same folder by another spelling (a symlink, a mount's name) is one input
    (tmp_path / "alias").symlink_to(videos)
    out2 = tmp_path / "out2"
    cli.invoke(extract_cmd, [str(videos), "-o", str(out2), "--shard", "0/2", *ARGS])
    cli.invoke(extract_cmd, [str(tmp_path / "alias"), "-o", str(out2), "--shard", "1/2", *ARGS])
    res = cli.invoke(merge_cmd, [str(out2)])
    assert res.exit_code == 1 and "read another input" not in res.output, res.output  # merged, d\x.mp4 failed

    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    for day, frames in ((day1, 20), (day2, 28)):
        for name in "abcd":
            make_video(day / f"{name}.mp4", frames)
    out = tmp_path / "days"
    cli.invoke(extract_cmd, [str(day1), "-o", str(out), "--shard", "0/2", *ARGS])
    cli.invoke(extract_cmd, [str(day2), "-o", str(out), "--shard", "1/2", *ARGS])
    res = cli.invoke(merge_cmd, [str(out)])
    assert res.exit_code == 2 and "read another input" in res.output and not (out / "manifest.json").exists()


def test_merge_after_resharding_takes_the_complete_sharding_and_names_a_damaged_manifest(tmp_path):
    """A 0/4 shard left beside a finished 2-way run blocked the merge for good ("N in [2, 4]"); a
    damaged shard manifest gave a JSONDecodeError traceback and exit 1 (read as "merged")."""
    videos = tmp_path / "in"
    for i in range(4):
        make_video(videos / f"{i}.mp4", 20)
    out, cli = tmp_path / "out", CliRunner()
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/4", *ARGS]).exit_code == 0
    for i in range(2):
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", f"{i}/2", *ARGS]).exit_code == 0
    res = cli.invoke(merge_cmd, [str(out)])
    assert res.exit_code == 0, res.output
    assert "note: passed over the manifests of another sharding (N in [4]): manifest.shard-0-of-4.json" in res.output
    assert json.loads((out / "manifest.json").read_text())["merged_from"] == 2
    (out / "manifest.json").unlink()
    (out / "manifest.shard-1-of-2.json").write_text('{"videos": {"2.mp4": ')
    res = cli.invoke(merge_cmd, [str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "shard 1/2: manifest.shard-1-of-2.json cannot be read" in res.output and "rerun that shard" in res.output


def test_merge_refuses_files_another_run_rewrote_since_the_shards(tmp_path):
    """After two shards finished, an unsharded run with other settings (killed partway) or one shard
    of another sharding rewrote some feature files; merge joined the old shard manifests all the
    same, called the store complete with the shards' settings, and detect no longer warned."""
    videos, out, cli = _two_shards(tmp_path)
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0
    other = [a if a != "size=64x48" else "size=32x24" for a in ARGS]
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/3", *other]).exit_code == 0
    refused = cli.invoke(merge_cmd, [str(out)])
    assert refused.exit_code == 2, refused.output
    assert ("2 feature file(s) are no longer the ones their shard wrote: another extraction into this store rewrote "
            "them with other settings (0.mp4 (shard 0/2), 3.mp4 (shard 1/2))") in refused.output
    (out / "manifest.shard-0-of-3.json").unlink()
    for i in range(2):  # the 2-way shards rerun: their files again, and the merge goes through
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", f"{i}/2", *ARGS]).exit_code == 0
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0


def test_merge_again_after_an_unsharded_run_keeps_that_runs_manifest(tmp_path):
    """Merged shards, then an unsharded run that added videos (one failed), then `videoad merge` again
    (a pipeline rerun): the merge replaced that run's manifest with the older shards' view and exited
    0, the added videos and the failure with its reason gone from it."""
    videos, out, cli = _two_shards(tmp_path)
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0
    make_video(videos / "4.mp4", 20)
    (videos / "zz.mp4").write_text("not a video\n")
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), *ARGS]).exit_code == 1
    before = (out / "manifest.json").read_text()
    refused = cli.invoke(merge_cmd, [str(out)])
    assert refused.exit_code == 2, refused.output
    assert "was written by an extraction without --shard after the shards ran (6 video(s)" in refused.output
    assert (out / "manifest.json").read_text() == before
    assert json.loads(before)["videos"]["zz.mp4"]["status"] == "failed"
    for i in range(2):  # every shard rerun: theirs again, and merged
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", f"{i}/2", *ARGS]).exit_code in (0, 1)
    assert not (out / "manifest.json").exists()
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 1  # merged, zz.mp4's failure reported


def test_a_shard_manifest_with_fields_of_the_wrong_kind_is_named_and_its_rerun_mends_it(tmp_path):
    """A hand-edited shard manifest (`"videos": {"0.mp4": "done"}`, `"keys": null`) made merge a
    traceback with exit 1, read as "merged with failures"; `"complete": "no"` merged as complete;
    and the shard's rerun over it was a traceback too."""
    videos, out, cli = _two_shards(tmp_path)
    path = out / "manifest.shard-0-of-2.json"
    good = json.loads(path.read_text())
    for edit in ({"videos": {k: "done" for k in good["videos"]}}, {"keys": None}, {"complete": "no"}):
        path.write_text(json.dumps({**good, **edit}))
        res = cli.invoke(merge_cmd, [str(out)])
        assert res.exit_code == 2 and isinstance(res.exception, (SystemExit, type(None))), res.output
        assert f"shard 0/2: {path.name} cannot be read" in res.output and "rerun that shard" in res.output
        assert f"(its {next(iter(edit))} not as videoad writes them)" in res.output, res.output
        assert not (out / "manifest.json").exists()
    rerun = cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/2", *ARGS])
    assert rerun.exit_code == 0, rerun.output
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0


def _held(folder, mode: str):
    """Another process holding `folder`'s lock (`mode` "SH" as a shard does, "EX" as a run does)
    until it is killed; returns it once the lock is taken."""
    import subprocess
    import sys
    import time

    folder.mkdir(parents=True, exist_ok=True)
    code = (f"import fcntl, os, time; fd = os.open({str(folder / '.videoad-lock')!r}, os.O_RDWR | os.O_CREAT); "
            f"fcntl.flock(fd, fcntl.LOCK_{mode}); os.write(fd, b'pid 1, videoad extract elsewhere\\n'); "
            "print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    time.sleep(0.1)
    return proc


def test_two_extractions_into_one_store_are_refused_and_shards_share_it(tmp_path):
    """Two unsharded runs into one store (the second with other settings) both said "done" and left
    files of both settings under one manifest; the shards of one run still run side by side, and a
    merge is refused while one of them runs."""
    videos = tmp_path / "in"
    for i in range(2):
        make_video(videos / f"{i}.mp4", 20)
    out = tmp_path / "out"
    cli = CliRunner()
    other = _held(out, "EX")
    try:
        res = cli.invoke(extract_cmd, [str(videos), "-o", str(out), *ARGS])
        assert res.exit_code == 1 and "another videoad is writing this folder now (pid 1, videoad extract " \
                                      "elsewhere)" in res.output and "may run side by side" in res.output
        assert not list(out.glob("*.h5"))
    finally:
        other.kill()
        other.wait()
    other = _held(out, "SH")  # a shard of this run, still going
    try:
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/2", *ARGS]).exit_code == 0
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), *ARGS]).exit_code == 1
        res = cli.invoke(merge_cmd, [str(out)])
        # (the note is the latest shard's to start: here the one that ran in this process)
        assert res.exit_code == 2 and "a shard or another extraction is writing this store now (pid " in res.output
        assert "merge once it has finished" in res.output
        assert "output folder" not in res.output  # merge has none to give
    finally:
        other.kill()
        other.wait()
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "1/2", *ARGS]).exit_code == 0
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0


def test_a_store_that_cannot_be_written_is_not_merged_with_exit_2(tmp_path, monkeypatch):
    """Permission errors were tracebacks naming a hidden temporary, and a read-only store exited 1,
    which merge's help says means "merged, some videos failed"."""
    import errno

    from extract import manifest
    from extract.store import OutputError, output_error

    denied = output_error(tmp_path / "manifest.json", PermissionError(errno.EACCES, "Permission denied"), store=True)
    assert isinstance(denied, OutputError)
    assert "manifest.json: permission denied; choose a writable folder" in str(denied)
    assert isinstance(output_error(tmp_path, PermissionError(errno.EPERM, "x"), store=True), OutputError)
    # one feature file another user owns fails its video alone (extract.run)
    assert not isinstance(output_error(tmp_path / "a.h5", PermissionError(errno.EACCES, "x")), OutputError)
    manifest_path = tmp_path / "m" / "manifest.json"
    manifest_path.parent.mkdir()

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "m" / ".manifest.json.1-ab.tmp"))

    monkeypatch.setattr(manifest, "write_atomic", refused)
    try:
        manifest._write_json(manifest_path, {"videos": {}})
    except OutputError as exc:
        assert str(exc).startswith(f"cannot write {manifest_path}: permission denied")
    else:
        raise AssertionError("no OutputError")

    def unwritable(root):
        raise output_error(tmp_path / "manifest.json", OSError(errno.EROFS, "Read-only file system"))

    monkeypatch.setattr(manifest, "merge_shards", unwritable)
    res = CliRunner().invoke(merge_cmd, [str(tmp_path)])
    assert res.exit_code == 2 and "not merged: cannot write" in res.output and "read-only" in res.output

