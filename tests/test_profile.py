"""The learner profile: edits, atomic storage at the workspace root, survival across rebuilds."""

from __future__ import annotations

import json
import threading

import pytest

from kg.profile import Profile, load_profile, save_profile, update_profile
from studygraph.errors import WorkspaceError
from studygraph.workspace import Workspace


def test_profile_edits_move_names_between_known_and_not_known():
    p = Profile().know(["Transformer", "线性代数"]).add_goals(["LoRA"])
    assert p.known == ["Transformer", "线性代数"] and p.goals == ["LoRA"]
    p = p.unknow(["线性代数"])
    assert p.known == ["Transformer"] and p.not_known == ["线性代数"]
    p = p.know(["线性代数", "Transformer"])
    assert p.known == ["Transformer", "线性代数"] and p.not_known == []
    p = p.drop(["transformer", "LoRA"])
    assert p == Profile(known=["线性代数"])


def test_missing_profile_is_empty(tmp_path):
    assert load_profile(Workspace(tmp_path / "ws")) == Profile()


def test_profile_round_trip_is_atomic_and_leaves_no_temp_files(tmp_path):
    ws = Workspace(tmp_path / "ws")
    profile = Profile(known=["数学基础", "Python编程"], not_known=["线性代数"], goals=["BERT", "LoRA"])
    save_profile(ws, profile)
    assert load_profile(ws) == profile
    assert json.loads(ws.profile_path.read_text(encoding="utf-8"))["goals"] == ["BERT", "LoRA"]
    assert [p.name for p in ws.root.iterdir()] == ["profile.json"]


def test_profile_survives_new_workspace_generations(tmp_path):
    ws = Workspace(tmp_path / "ws")
    for n in range(3):
        with ws.lock(), ws.transaction() as tx:
            tx.path("chunks.jsonl").write_text("", encoding="utf-8")
            tx.commit()
        if n == 0:
            save_profile(ws, Profile(known=["Transformer"]))
    assert ws.read_manifest().generation == 3
    assert load_profile(ws) == Profile(known=["Transformer"])


def test_corrupted_profile_is_a_clear_error(tmp_path):
    ws = Workspace(tmp_path)
    ws.profile_path.write_text('{"known": "not a list"', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="profile"):
        load_profile(ws)
    ws.profile_path.write_text('{"known": 3}', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="delete it"):
        load_profile(ws)


def test_concurrent_updates_do_not_lose_each_other(tmp_path):
    ws = Workspace(tmp_path)
    names = [f"concept-{i}" for i in range(12)]
    threads = [threading.Thread(target=update_profile, args=(ws, lambda p, n=n: p.know([n]))) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(load_profile(ws).known) == sorted(names)
