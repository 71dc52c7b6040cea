"""Own models in the explorer, without the web framework: uploads read or refused, runs checked,
simulated with mutations and cached."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from her2sim.errors import ConfigError, Her2simError, ModelFormatError
from her2sim.web.own import (
    MAX_UPLOAD,
    OwnRequest,
    Upload,
    decode_upload,
    example_upload,
    own_answer,
    parse_own_request,
    read_upload,
)
from tests.conftest import DATA

TOY = "# a toy cascade\nA, A\nB, A & !C\nC, B\n"


def data_url(data: bytes | str) -> str:
    """A file as a browser uploads it: a base64 data URL."""
    raw = data.encode() if isinstance(data, str) else data
    return "data:application/octet-stream;base64," + base64.b64encode(raw).decode()


def upload(*files: tuple[str, bytes | str]) -> Upload:
    return decode_upload([name for name, _ in files], [data_url(data) for _, data in files])


def test_a_bnet_upload_is_read_with_default_run_settings() -> None:
    model, config = read_upload(upload(("toy.bnet", TOY)))
    assert model.names == ("A", "B", "C") and model.inputs() == ("A",)
    assert (config.max_time, config.sample_count) == (50.0, 1000)


def test_a_maboss_pair_is_read_with_its_cfg_and_the_folder_a_browser_sends_is_dropped() -> None:
    example = example_upload()
    files = dict(example.files)
    pair = decode_upload(["C:\\models\\erbb_core.bnd", "erbb_core.cfg"],
                         [data_url(files["erbb_core.bnd"]), data_url(files["erbb_core.cfg"])])  # fmt: skip
    assert pair.label == "erbb_core.bnd + erbb_core.cfg" and pair.digest == example.digest
    model, config = read_upload(pair)
    assert len(model) == 9 and model.parameter_values == {"k_dimer": 2.0}
    assert (config.max_time, config.time_tick, config.seed) == (20.0, 0.5, 1)


@pytest.mark.parametrize("name", ["ginsim_style.sbml", "ginsim_style.xml"])
def test_an_sbml_qual_upload_is_read_whatever_its_xml_suffix(name: str) -> None:
    model, _ = read_upload(upload((name, (DATA / "sbml" / "ginsim_style.sbml").read_bytes())))
    assert len(model) > 1


@pytest.mark.parametrize(
    ("files", "error", "message"),
    [
        ([("bad.bnet", "A, A\nB, A &\n")], ModelFormatError, "bad.bnet:2:"),
        ([("bad.bnet", "A, B C\n")], ModelFormatError, "bad.bnet:1:"),
        ([("net.bnd", "Node A { logic = B; }")], Her2simError, "net.bnd"),
        ([("bad.sbml", "<sbml>")], ModelFormatError, "bad.sbml"),
        ([("model.txt", "A, A")], ModelFormatError, "model.txt: unknown model file type (upload a .bnet"),
        ([("erbb_core.cfg", "max_time = 5;")], ConfigError, "choose it together with its .bnd network"),
        ([("a.bnet", "A, A"), ("b.bnet", "B, B")], ConfigError, "(or a .bnd with its .cfg), got 2"),
        ([("toy.bnet", b"A, A\x00\x01")], ModelFormatError, "binary file"),
        ([("empty.bnet", "")], ModelFormatError, "empty"),
    ],
    ids=["syntax", "two names", "unknown name", "not sbml", "suffix", "cfg alone", "two models", "binary", "empty"],
)  # fmt: skip
def test_a_bad_upload_is_refused_with_the_readers_one_line(files: list[tuple[str, Any]], error: type, message: str):
    with pytest.raises(error) as info:
        read_upload(upload(*files))
    assert message in str(info.value) and "\n" not in str(info.value) and len(str(info.value)) < 300, info.value


def test_a_too_large_upload_is_refused_before_decoding_with_its_size() -> None:
    big = "A, A\n" + "# padding\n" * (MAX_UPLOAD // 10 + 1)
    with pytest.raises(ConfigError, match=r"big\.bnet is 2\.0 MB, more than the 2 MB the explorer reads"):
        upload(("big.bnet", big))
    with pytest.raises(ConfigError, match="too large"):  # a forged store with the text itself
        read_upload(Upload((("big.bnet", big),)))


@pytest.mark.parametrize(
    ("names", "contents", "message"),
    [([], [], "choose a model file"), (["a.bnet"], ["data:text/plain,A, A"], "not a base64 data URL"),
     (["a.bnet"], ["data:;base64,@@@"], "not valid base64"), ([5], ["x"], "file names and their contents")],
)  # fmt: skip
def test_a_forged_upload_is_refused_with_one_line(names: list[Any], contents: list[Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        decode_upload(names, contents)


@pytest.mark.parametrize("stored", [None, {}, {"files": []}, {"files": [["a.bnet"]]}, {"files": "A, A"}])
def test_a_forged_stored_upload_asks_for_an_upload(stored: Any) -> None:
    with pytest.raises(ConfigError, match="upload a model first"):
        Upload.from_json(stored)


@pytest.fixture(scope="module")
def toy() -> Any:
    return read_upload(upload(("toy.bnet", TOY)))[0]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"on": ["b"]}, "fixed ON: unknown node 'b' (did you mean 'B'?)"),
        ({"off": "A"}, "fixed OFF must be a list of node names, got 'A'"),
        ({"on": ["A"], "off": ["A"]}, "A is fixed both ON and OFF; choose one"),
        ({"samples": "50000"}, "trajectories must be an integer from 100 to 10000, got '50000'"),
        ({"samples": "lots"}, "got 'lots'"),
        ({"samples": None}, "got None"),
        ({"max_time": "-3"}, "max time must be a number from 0.1 to 10000 (model rate units), got '-3'"),
        ({"max_time": "1e9"}, "got '1e9'"),
    ],
)
def test_a_bad_run_is_refused_with_what_was_typed(toy: Any, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_own_request(toy, params)
    assert str(info.value).endswith(message) and "\n" not in str(info.value)


def test_parameters_are_read_from_the_table_and_only_changes_kept() -> None:
    model, _ = read_upload(example_upload())
    rows = [{"parameter": "$k_dimer", "value": "2"}]
    assert parse_own_request(model, {"parameters": rows}).parameters == ()
    rows = [{"parameter": "$k_dimer", "value": " 4.5 "}]
    assert parse_own_request(model, {"parameters": rows}).parameters == (("k_dimer", 4.5),)
    with pytest.raises(ConfigError, match=r"^parameter \$k_dimer must be a number, got 'fast'$"):
        parse_own_request(model, {"parameters": [{"parameter": "$k_dimer", "value": "fast"}]})
    with pytest.raises(ConfigError, match=r"unknown parameter 'k_dimr' \(did you mean \$k_dimer\?\)"):
        parse_own_request(model, {"parameters": {"k_dimr": 1}})


def test_a_run_with_a_mutation_holds_the_node_and_is_cached(tmp_path: Path) -> None:
    example = example_upload()
    model, _ = read_upload(example)
    request = parse_own_request(model, {"off": ["PI3K"], "samples": "300", "max_time": "10"})
    steps: list[int] = []
    answer = own_answer(example, request, str(tmp_path), lambda i, _: steps.append(i))
    assert steps == [1, 2, 3] and answer["off"] == ["PI3K"] and answer["samples"] == 300
    assert answer["max_time"] == 10 and answer["time"][0] == 0 and len(answer["time"]) == 20
    assert answer["final"]["PI3K"] == 0 and answer["final"]["AKT"] < 0.05 and answer["final"]["HER2"] == 1
    assert set(answer["trajectories"]) == set(model.names)
    assert sum(row["probability"] for row in answer["final_states"]) == pytest.approx(1.0)
    assert all("PI3K" not in row["state"] for row in answer["final_states"])
    again: list[int] = []
    assert own_answer(example, request, str(tmp_path), lambda i, _: again.append(i)) == answer and again == []
    on = own_answer(example, OwnRequest(on=("PI3K",), samples=300, max_time=10.0), str(tmp_path))
    assert on["final"]["PI3K"] == 1 and on["final"]["AKT"] > 0.9
