"""bench/stacks.py: aggregation of py-spy's collapsed stacks, per process."""

from __future__ import annotations

from pathlib import Path

from bench.stacks import by_role, package, parse_raw, summary, within

RAW = [
    'process 10:"python serve";<module> (cli.py:3);handle (cityshield/taxii/api.py:20);'
    "execute (sqlalchemy/engine/base.py:99) 6",
    'process 10:"python serve";<module> (cli.py:3);handle (cityshield/taxii/api.py:22) 2',
    'process 10:"python serve";process 11:"python worker";run (cityshield/worker/run.py:5);'
    "run (cityshield/worker/run.py:9) 4",
    "",
    "garbage without a count",
]


def test_parse_raw_takes_the_innermost_process_and_drops_line_numbers() -> None:
    stacks = parse_raw(RAW)
    assert [s.pid for s in stacks] == [10, 10, 11]
    assert stacks[0].frames[-1] == "execute (sqlalchemy/engine/base.py)"
    assert stacks[2].frames == ("run (cityshield/worker/run.py)",) * 2
    assert [s.samples for s in stacks] == [6, 2, 4]


def test_own_and_total_shares_are_per_process_and_count_a_recursive_frame_once() -> None:
    profiles = by_role(parse_raw(RAW), {10: "api", 11: "worker"}.__getitem__)
    api, worker = profiles["api"], profiles["worker"]
    assert api.samples == 8
    assert api.own["execute (sqlalchemy/engine/base.py)"] == 6
    assert api.own["handle (cityshield/taxii/api.py)"] == 2
    assert api.total["handle (cityshield/taxii/api.py)"] == 8
    assert worker.total["run (cityshield/worker/run.py)"] == 4  # not 8
    figures = summary(profiles)
    assert list(figures) == ["api", "worker"]
    assert figures["api"]["own"][0] == {
        "function": "execute (sqlalchemy/engine/base.py)",
        "samples": 6,
        "share": 0.75,
    }
    assert {r["function"] for r in figures["api"]["total_cityshield"]} == {
        "handle (cityshield/taxii/api.py)"
    }
    assert figures["api"]["own_by_package"][0]["function"] == "sqlalchemy"


def test_package_of_a_frame() -> None:
    assert package("execute (sqlalchemy/engine/base.py)") == "sqlalchemy"
    assert package("wait (threading.py)") == "threading"
    assert package("<module> (<frozen importlib._bootstrap>)") == "<frozen importlib._bootstrap>"


def test_a_command_line_with_semicolons_stays_one_process_frame() -> None:
    forkserver = "python -c from multiprocessing.forkserver import main; main(11, 12)"
    line = f'process 10:"serve";process 12:"{forkserver}";process 13:"{forkserver}";work (w.py) 5'
    (stack,) = parse_raw([line])
    assert stack.pid == 13
    assert stack.frames == ("work (w.py)",)


def test_within_divides_one_piece_of_work() -> None:
    stacks = parse_raw(RAW)
    inside = within(stacks, lambda s: "handle (cityshield/taxii/api.py)" in s.frames)
    assert inside["samples"] == 8
    assert inside["own"][0]["share"] == 0.75


def test_analyse_a_raw_file_per_process_and_per_piece_of_work(tmp_path: Path) -> None:
    from bench.profile import analyse

    raw = tmp_path / "raw.txt"
    raw.write_text(
        'process 10:"serve";add_objects (cityshield/flows/ingest.py);'
        "lock_collection (cityshield/store/service.py) 3\n"
        'process 10:"serve";select (selectors.py) 1\n'
        'process 11:"worker";publish_pending (cityshield/dedup/service.py) 2\n'
    )
    result = analyse(raw, {10: "api (serve)", 11: "worker"})
    assert result["processes"]["api (serve)"]["samples"] == 4
    ingest = result["within"]["api: inside the ingest request"]
    assert ingest["samples"] == 3
    assert (
        ingest["total_cityshield"][1]["function"] == "lock_collection (cityshield/store/service.py)"
    )
    assert result["within"]["worker: inside a publication"]["samples"] == 2
