"""The search space: every contestant at the cheaper setting first, the controls before the full fine-tunes,
LoRA only for sources whose backbone can take adapters."""

from __future__ import annotations

from medtransfer.autotransfer.rank import Candidate
from medtransfer.autotransfer.space import race_order, search_space


def test_contestants_are_ordered_cheap_first_and_lora_only_where_it_applies():
    cnn, bert = Candidate("dna_cnn"), Candidate("dna_bert_augustus")
    scratch = Candidate("dna_bert_augustus", pretrained=False)
    trials = search_space([bert, cnn], scratch, [{"image_size": 64}, {"image_size": 128}], lora=frozenset({bert.label}))
    labels = [t.label for t in trials]
    first = labels[: len(labels) // 2]  # the 64-px half comes first, in full
    assert all("image_size=64" in label for label in first)
    assert first == [
        "dna_bert_augustus/linear_probe[image_size=64]",
        "dna_cnn/linear_probe[image_size=64]",
        "dna_bert_augustus@random/full[image_size=64]",
        "dna_bert_augustus/full[image_size=64]",
        "dna_bert_augustus/lora[image_size=64]",
        "dna_cnn/full[image_size=64]",
    ]
    assert labels[-1] == "classical" and not any(label.startswith("dna_cnn/lora") for label in labels)
    assert trials[4].fit_settings(1)["epochs"] == 6  # rung 1 trains ETA (3) times rung 0's 2 epochs


def test_rung_zero_runs_each_settings_fine_tunes_cheapest_first_the_control_after_its_pretrained_source():
    cnn, bert = Candidate("dna_cnn"), Candidate("dna_bert_augustus")
    trials = search_space([bert, cnn], Candidate("dna_bert_augustus", pretrained=False),
                          [{"image_size": 64}, {"image_size": 128}], lora=frozenset({bert.label}))  # fmt: skip
    cost = {"dna_cnn": 1.0, "dna_bert_augustus": 5.0}
    order = race_order(trials, lambda t: cost[t.candidate.name] * (2 if t.strategy == "lora" else 1))
    labels = [t.label for t in order]
    assert sorted(labels) == sorted(t.label for t in trials)  # the same contestants, only the order differs
    assert labels[:6] == [
        "dna_bert_augustus/linear_probe[image_size=64]",  # probes as listed (rank order)
        "dna_cnn/linear_probe[image_size=64]",
        "dna_cnn/full[image_size=64]",  # the cheapest fine-tune first
        "dna_bert_augustus/full[image_size=64]",  # the pretrained source before its control of the same cost
        "dna_bert_augustus@random/full[image_size=64]",
        "dna_bert_augustus/lora[image_size=64]",
    ]
    assert all("image_size=128" in label for label in labels[6:-1]) and labels[-1] == "classical"
    # where the control is the cheapest, it still runs first of the fine-tunes
    cheap_control = race_order(trials, lambda t: 0.5 if not t.candidate.pretrained else cost[t.candidate.name])
    assert cheap_control[2].label == "dna_bert_augustus@random/full[image_size=64]"


def test_text_adds_setfit_for_single_label_data_only():
    from medtransfer.autotransfer.space import searched_strategies
    from medtransfer.data.catalog import load_dataset
    from medtransfer.data.modality import get_modality

    text = get_modality("text")
    assert searched_strategies(load_dataset("iu_xray_reports"), text) == ("setfit",)
    assert searched_strategies(load_dataset("iu_xray_findings"), text) == ()  # multi-label: no pairs to draw
    assert searched_strategies(load_dataset("bbbp"), get_modality("molecule")) == ()
    minilm, scratch = Candidate("minilm_l6"), Candidate("minilm_l6", pretrained=False)
    labels = [t.label for t in search_space([minilm], scratch, [{}], more=("setfit",))]
    assert labels == ["minilm_l6/linear_probe", "minilm_l6@random/full", "minilm_l6/full", "minilm_l6/setfit",
                      "classical"]  # fmt: skip


def test_the_finalist_is_tuned_over_the_levers_the_data_allows():
    import optuna

    from medtransfer.autotransfer.space import tuned_levers
    from medtransfer.autotransfer.tune import tuned_settings
    from medtransfer.data.catalog import load_dataset
    from medtransfer.data.modality import get_modality

    images = load_dataset("breastmnist")
    assert tuned_levers(images, get_modality("image")) == {"class_weights": (False, True), "mixup": (0.0, 0.2)}
    assert tuned_levers(images, get_modality("image"), fixed={"mixup"}) == {"class_weights": (False, True)}
    assert tuned_levers(load_dataset("bbbp"), get_modality("molecule")) == {"class_weights": (False, True)}
    assert tuned_levers(load_dataset("freesolv"), get_modality("molecule")) == {}  # regression: no classes
    base = {"backbone": "chemnet", "pretrained": True, "strategy": "linear_probe", "epochs": 10}
    trial = optuna.trial.FixedTrial({"lr": 1e-3, "weight_decay": 1e-4, "epochs": 12, "class_weights": True,
                                     "mixup": 0.2})  # fmt: skip
    settings = tuned_settings(trial, base, 1e-3, {"class_weights": (False, True), "mixup": (0.0, 0.2)})
    assert settings == {**base, "lr": 1e-3, "weight_decay": 1e-4, "epochs": 12, "class_weights": True, "mixup": 0.2}


def test_image_sources_are_also_raced_concatenated_as_one_probe_after_their_own():
    from medtransfer.autotransfer.space import MAX_CONCAT, concat_candidate
    from medtransfer.data.modality import get_modality

    ranked = ["densenet121_capricorn", "efficientnet_lite1", "efficientnet_lite0", "efficientnet_lite2", "extra"]
    concat = concat_candidate(ranked, get_modality("image"))
    assert concat.name == "concat:" + "+".join(ranked[:MAX_CONCAT])  # rank order, capped: it costs their sum
    assert concat_candidate(ranked[:1], get_modality("image")) is None  # one source: nothing to concatenate
    assert concat_candidate(["chemnet", "smiles_bert"], get_modality("molecule")) is None  # inputs differ
    a, b = Candidate(ranked[0]), Candidate(ranked[1])
    labels = [t.label for t in search_space([a, b], Candidate(ranked[2], pretrained=False), [{}], concat=concat)]
    assert labels[:4] == [f"{ranked[0]}/linear_probe", f"{ranked[1]}/linear_probe", f"{concat.label}/linear_probe",
                          f"{ranked[2]}@random/full"]  # fmt: skip
    assert sum(concat.label in label for label in labels) == 1  # a probe only: fine-tuning it costs every member's


def test_a_resumed_search_keeps_the_order_it_first_chose_whatever_ranks_timings_say(tmp_path):
    from medtransfer.autotransfer.search import _rung_zero_order

    cnn, bert = Candidate("dna_cnn"), Candidate("dna_bert_augustus")
    trials = search_space([bert, cnn], Candidate("dna_cnn", pretrained=False), [{}])
    first = _rung_zero_order(trials, {"dna_cnn": 1.0, "dna_bert_augustus": 5.0}, tmp_path, resume=False)
    assert [t.label for t in first][2:] == ["dna_cnn/full", "dna_cnn@random/full", "dna_bert_augustus/full"]
    warm = {"dna_cnn": 5.0, "dna_bert_augustus": 1.0}  # a warm feature cache times loading: the costs turn over
    assert _rung_zero_order(trials, warm, tmp_path, resume=True) == first
    assert _rung_zero_order(trials, warm, tmp_path, resume=False)[2].label == "dna_bert_augustus/full"
