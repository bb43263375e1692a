"""The analyses' commands, by name: the module declaring each and its help (``--help`` lists them
without importing them). Written by ``python -m ptmgraph.cli_index`` from the declarations; do not
edit: tests/test_declarations.py checks it."""
# ruff: noqa: E501

COMMANDS: dict[str, tuple[str, str]] = {
    'ancestry': ('lineage', 'Where MODEL comes from: a tree of its ancestors up to the roots, each with its relation.'),
    'audit': ('completeness', 'Missing attributes (licence, base_model, datasets, task, library, evaluation, card) and their rates; edges whose declared, Hub and inferred relations disagree.'),
    'audit-relations': ('relation_audit', "Edges where the Hub's relation label disagrees with the weights the child ships, counted by kind."),
    'check': ('check', "Lineage findings of each model (stale, risky, unavailable or compromised ancestors, licence drift, files the Hub's scan calls unsafe, dangling references, pickle-only weights), each with a severity; exit 1 at --fail-on or above."),
    'dangling': ('overview', 'References that could not become edges (local paths, other sites, deleted or private models).'),
    'diff': ('diff', 'What changed from OLD to NEW: models and edges added and removed, relation, licence, access and weight-file changes, new and removed descendants of --watch models; exit 1 when a watched one changed.'),
    'history': ('history', "How MODEL's parents, licence, access, downloads and reach changed across the dated snapshots of a history (written by ingest or crawl --history DIR)."),
    'impact': ('lineage', 'What depends on MODEL: a tree of every transitive descendant (the blast radius), most downloaded first.'),
    'info': ('overview', "MODEL's record, its parents with the evidence of each edge, and its children by relation."),
    'licenses': ('licenses', 'Licence drift: edges whose derived model states another licence than its base, or none under a base whose licence must be passed on, with a verdict.'),
    'list': ('finding', 'The models of one author, most downloaded first.'),
    'problems': ('overview', 'Input that was read but not usable: broken model-card YAML, bad JSON lines, unreadable files.'),
    'reach': ('reach', 'Fan-out and reach: direct and transitive dependents (each once), downloads-weighted, and their spread.'),
    'report': ('report', 'Write a Markdown report with tables and figures (PNG and SVG) about a whole snapshot.'),
    'risk': ('risk', 'Everything a risky model puts at risk, most downloaded first; exit 1 if anything is affected.'),
    'search': ('finding', 'Models whose id contains QUERY, whose author is QUERY or that carry the tag QUERY, most downloaded first.'),
    'stale': ('staleness', 'Stale ancestors: bases whose weights (or only card) changed after the model was made, with a newer version, or unavailable (disabled or not found; gated is not).'),
    'stats': ('overview', 'Counts: models, edges by relation and evidence, dangling references, roots, depths, components.'),
    'why': ('why', "Every path by which MODEL derives from ANCESTOR, hop by hop with each edge's relation and evidence; exit 1 when there is none."),
}


if __name__ == "__main__":  # pragma: no cover - writes this file
    from pathlib import Path

    from ptmgraph.cli import command_index

    Path(__file__).write_text(command_index())
