"""The shape of the Hub that the generator follows, each parameter with where it comes from.

``FROM_SAMPLE`` holds what ``python -m benchmarks.derive_shape`` computes from
../shared/data/hub-sample (``tests/test_benchmarks.py`` checks they are equal). The few parameters the
sample cannot give, because it is a crawl from twenty famous roots, are separate constants below it,
each with its reason. Shares are fractions of 1; days are days since 1970-01-01.
"""

from __future__ import annotations

from typing import Any

FROM_SAMPLE: dict[str, Any] = {
    # model_tree.jsonl: depth of the parent of each listed child, 3 meaning 3 or more. The generator
    # picks a new model's base at depth d with this probability, so depth grows like the sample's.
    "parent_depth_shares": {"0": 0.9365, "1": 0.0524, "2": 0.0093, "3": 0.0018},
    # model_tree.jsonl: the heading each child is listed under, for children of crawl roots ...
    "relation_shares_below_root": {"adapter": 0.7319, "finetune": 0.2363, "merge": 0.0038, "quantized": 0.028},
    # ... and for children of models below the roots (quantizations of finetunes are common there).
    "relation_shares_deeper": {"adapter": 0.2424, "finetune": 0.38, "merge": 0.014, "quantized": 0.3636},
    # model_tree.jsonl: power-law exponent of the number of children of tree members below the roots
    # that have any (MLE). A model's attractiveness as a base is Pareto with this tail.
    "fan_out_alpha": 1.766,
    # model_tree.jsonl: share of tree members below the roots that have at least one child. Not an input
    # of the generator: a check of its output (benchmarks/RESULTS.md compares them).
    "non_root_parent_share": 0.0573,
    # models.jsonl cardData.base_model: share of records naming two or more bases (merges) ...
    "multi_base_share": 0.0316,
    # ... and how many they name.
    "multi_base_counts": {"2": 0.6863, "3": 0.1961, "4": 0.0784, "5": 0.0392},
    # models.jsonl cardData.new_version: share of cards that set it, and share of those naming a base.
    "new_version_share": 0.1265,
    "new_version_is_base_share": 0.652,
    # models.jsonl cardData.datasets: share of cards that name any dataset.
    "datasets_share": 0.4966,
    # models.jsonl cardData.license: the 12 commonest values (None: no licence), share of records.
    "license_shares": [
        [None, 0.4191], ["apache-2.0", 0.1352], ["llama2", 0.1172], ["creativeml-openrail-m", 0.098],
        ["mit", 0.0862], ["other", 0.057], ["gemma", 0.0254], ["openrail", 0.0143], ["cc-by-nc-4.0", 0.0068],
        ["unknown", 0.0056], ["afl-3.0", 0.005], ["cc-by-sa-4.0", 0.0037],
    ],
    # models.jsonl library_name|pipeline_tag: the 10 commonest pairs.
    "library_pipeline_shares": [
        ["transformers|text-generation", 0.3912], ["None|None", 0.2585], ["diffusers|text-to-image", 0.1054],
        ["transformers|None", 0.0372], ["None|text-generation", 0.0217], ["None|question-answering", 0.0124],
        ["None|text-classification", 0.0118], ["transformers|image-text-to-text", 0.0093],
        ["diffusers|text-to-video", 0.0074], ["paddlenlp|None", 0.0062],
    ],
    # models.jsonl siblings: the set of weight-file endings of a record, the 8 commonest sets.
    "weight_suffix_shares": [
        [".bin .safetensors", 0.4179], ["", 0.2467], [".safetensors", 0.1593], [".bin", 0.1104],
        [".bin .pt .safetensors", 0.018], [".pt", 0.0149], [".bin .pt .pth .safetensors", 0.013],
        [".pt .safetensors", 0.005],
    ],
    # models.jsonl siblings other than weights, README.md and .gitattributes: how many (21 quantiles) ...
    "other_file_count_quantiles": [0, 0, 0, 0, 0, 2, 5, 5, 6, 7, 7, 9, 10, 10, 10, 11, 12, 13, 15, 20, 365],
    # ... and the 16 commonest names.
    "common_other_files": [
        "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "config.json", "tokenizer.model",
        "adapter_config.json", "generation_config.json", "all_results.json", "train_results.json",
        "model.safetensors.index.json", "trainer_state.json", "eval_results.json", "text_encoder/config.json",
        "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "model_index.json",
    ],
    # models.jsonl gated.
    "gated_shares": [["False", 0.9647], ["auto", 0.0267], ["manual", 0.0087]],
    # models.jsonl downloads and likes: share of zeros, lognormal ln-mean and ln-sd of the rest.
    "downloads": {"zero_share": 0.6658, "mu": 2.084, "sigma": 2.749},
    "likes": {"zero_share": 0.8673, "mu": 1.747, "sigma": 2.483},
    # models.jsonl createdAt: 21 quantiles (days); the i-th of N generated models is created at the
    # i/N quantile, so bases are older than their children, as on the Hub.
    "created_day_quantiles": [
        19053.979, 19619.661, 19669.669, 19694.558, 19764.606, 19809.543, 19849.875, 19954.889, 20020.811,
        20082.536, 20101.707, 20109.088, 20115.924, 20118.508, 20127.767, 20138.664, 20146.677, 20154.059,
        20165.551, 20175.095, 20200.316,
    ],
    # models.jsonl lastModified - createdAt: 21 quantiles (days).
    "modified_lag_day_quantiles": [
        0.0, 0.0, 0.001, 0.001, 0.002, 0.003, 0.006, 0.01, 0.014, 0.023, 0.039, 0.061, 0.09, 0.111, 0.172,
        0.398, 1.047, 3.132, 11.183, 69.622, 1099.585,
    ],
    # models.jsonl: records per distinct author.
    "models_per_author": 1.909,
    # models.jsonl: mean size of a full record as JSON (bytes), to compare generated records with.
    "sample_record_bytes": 2913,
}

ROOT_SHARE = 0.044
"""Share of models with no base. Not in the sample (every record there was found below a crawl root).
Chosen so that edges ~= models, the whole-Hub shape issue 10 states (3M models, 3M edges):
(1 - 0.044) * (1 + multi_base_share * (mean bases of a merge - 1)) = 0.956 * 1.0465 ~= 1.0."""

ATTRACTIVENESS_CAP = 140_000.0
"""Upper cap on a model's Pareto attractiveness (minimum 1). With tail index fan_out_alpha - 1 = 0.77
the uncapped maximum grows faster than N, and one base would hold a third of a million-model Hub. The
sample cannot bound it (its roots were picked for their fame); the cap is chosen so that, as issue 10
says of the real Hub, a few bases hold tens of thousands of descendants at 1M to 3M models."""
