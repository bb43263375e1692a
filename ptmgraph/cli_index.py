"""The analyses' commands, by name: the module declaring each, and its name, help, options, kind of
rows and whether it queries the graph, so that ``--help`` and a usage error import no analysis.
Written by ``python -m ptmgraph.cli_index`` from the declarations; do not edit:
tests/test_declarations.py checks it."""
# ruff: noqa: E501

from ptmgraph import declaration as d

COMMANDS: dict[str, tuple[str, d.Analysis]] = {
    'ancestry': ('lineage', d.Analysis(
        'ancestry',
        'Where MODEL comes from: a tree of its ancestors up to the roots, each with its relation.',
        (
            d.MODELS,
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.Option(('--max-paths',), 'max_paths', 'List at most this many paths to roots.', kind='int', default=200, metavar='N', least=1),
            d.CSV_RAW,
            d.RELATION,
            d.MAX_DEPTH,
            d.Option(('--flat',), 'flat', 'A table, one row per model, instead of the tree.', kind='flag', default=False),
            d.Option(('--columns',), 'columns', 'Tree columns, most important first: relation, downloads, license, created, likes, confidence (default: relation,downloads,license,created; the last drops first when narrow).', metavar='A,B,...'),
            d.FROM_FILE,
            d.PATHS,
            d.OFFLINE,
            d.MAX_AGE,
        ),
    )),
    'audit': ('completeness', d.Analysis(
        'audit',
        'Missing attributes (licence, base_model, datasets, task, library, evaluation, card) and their rates; edges whose declared, Hub and inferred relations disagree.',
        (
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT.but(default=20),
            d.CSV_RAW,
        ),
    )),
    'audit-relations': ('relation_audit', d.Analysis(
        'audit-relations',
        "Edges where the Hub's relation label disagrees with the weights the child ships, counted by kind.",
        (
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
        ),
    )),
    'check': ('check', d.Analysis(
        'check',
        "Lineage findings of each model (stale, risky, unavailable or compromised ancestors, licence drift, files the Hub's scan calls unsafe, dangling references, pickle-only weights), each with a severity; exit 1 at --fail-on or above.",
        (
            d.MODELS.but(least=1),
            d.Option(('--fail-on',), 'fail_on', 'Exit 1 on a finding at this severity or above.', kind='choice', default='low', metavar='low|medium|high', choices=d.choices('FailOn', ('low', 'medium', 'high'))),
            d.COMPROMISED,
            d.FROM_FILE,
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.Option(('--compromised-from-file',), 'compromised_file', 'More compromised models, one id a line.', kind='path', metavar='FILE', extends='compromised'),
            d.Option(('--include',), 'include', "Also report this opt-in finding (repeatable): restricted (gated with manual approval), card_updated (only an ancestor's card or other files changed).", kind='choice', metavar='FINDING', choices=d.choices('OptInFinding', ('restricted', 'card_updated')), many=True),
            d.IGNORE,
            d.BASELINE,
            d.Option(('--write-baseline',), 'write_baseline', 'Write every finding of this run to a baseline file (then waived: exit 0).', kind='path', metavar='FILE'),
            d.OFFLINE,
            d.MAX_AGE,
        ), rows='findings',
    )),
    'dangling': ('overview', d.Analysis(
        'dangling',
        'References that could not become edges (local paths, other sites, deleted or private models).',
        (
            d.Option(('--reason',), 'reason', 'Only this reason: not_a_string, empty, local_path, other_site, invalid_id, not_found, gated, disabled, outweighed, namespace_mismatch.', kind='choice', metavar='REASON', choices=d.choices('DanglingReason', ('not_a_string', 'empty', 'local_path', 'other_site', 'invalid_id', 'not_found', 'gated', 'disabled', 'outweighed', 'namespace_mismatch'))),
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.PROVENANCE,
        ), query=False,
    )),
    'diff': ('diff', d.Analysis(
        'diff',
        'What changed from OLD to NEW: models and edges added and removed, relation, licence, access and weight-file changes, new and removed descendants of --watch models; exit 1 when a watched one changed.',
        (
            d.Option(('OLD',), 'old', 'The earlier snapshot directory.', kind='snapshot', argument=True, required=True),
            d.Option(('NEW',), 'new', 'The later snapshot directory.', kind='snapshot', argument=True, required=True),
            d.Option(('--watch', '-w'), 'watch', 'Flag changes to this model and its descendants; exit 1 if any (repeatable).', metavar='MODEL', many=True),
            d.Option(('--watch-from-file',), 'watch_from_file', 'More models to watch, one id a line (# comments, ORG/NAME@REVISION accepted).', kind='path', metavar='FILE', extends='watch'),
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
        ), rows='changes',
    )),
    'history': ('history', d.Analysis(
        'history',
        "How MODEL's parents, licence, access, downloads and reach changed across the dated snapshots of a history (written by ingest or crawl --history DIR).",
        (
            d.MODEL,
            d.Option(('--history',), 'snapshots', 'The history: dated snapshots DIR/date=YYYY-MM-DD/.', kind='history', metavar='DIR', required=True),
            d.FORMAT,
            d.LIMIT.but(default=0),
            d.CSV_RAW,
        ), rows='changes',
    )),
    'impact': ('lineage', d.Analysis(
        'impact',
        'What depends on MODEL: a tree of every transitive descendant (the blast radius), most downloaded first.',
        (
            d.MODELS,
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.RELATION,
            d.MAX_DEPTH,
            d.Option(('--flat',), 'flat', 'A table, one row per model, instead of the tree.', kind='flag', default=False),
            d.Option(('--columns',), 'columns', 'Tree columns, most important first: relation, downloads, license, created, likes, confidence (default: relation,downloads,license,created; the last drops first when narrow).', metavar='A,B,...'),
            d.FROM_FILE,
            d.PATHS,
            d.OFFLINE,
            d.MAX_AGE,
            d.LOOKUP_MAX_MODELS,
        ),
    )),
    'info': ('overview', d.Analysis(
        'info',
        "MODEL's record, its parents with the evidence of each edge, and its children by relation.",
        (
            d.MODEL,
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.Option(('--children',), 'children', 'Children shown per relation (0: all).', kind='int', default=10, metavar='N', least=0),
            d.OFFLINE,
            d.MAX_AGE,
        ),
    )),
    'licenses': ('licenses', d.Analysis(
        'licenses',
        'Licence drift: edges whose derived model states another licence than its base, or none under a base whose licence must be passed on, with a verdict.',
        (
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
        ),
    )),
    'list': ('model_search', d.Analysis(
        'list',
        'The models of one author, most downloaded first.',
        (
            d.Option(('--author',), 'author', 'The user or organisation.', metavar='ORG', required=True),
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.PROVENANCE,
        ), query=False,
    )),
    'problems': ('overview', d.Analysis(
        'problems',
        'Input that was read but not usable: broken model-card YAML, bad JSON lines, unreadable files.',
        (
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.PROVENANCE,
        ), query=False,
    )),
    'reach': ('reach', d.Analysis(
        'reach',
        'Fan-out and reach: direct and transitive dependents (each once), downloads-weighted, and their spread.',
        (
            d.Option(('--by',), 'by', "Rank models, or authors by the union of their models' reach.", kind='choice', default='model', metavar='model|author', choices=d.choices('By', ('model', 'author'))),
            d.Option(('--top',), 'top', 'Rank the top N (0: all).', kind='int', default=20, metavar='N', least=0),
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
        ),
    )),
    'report': ('report', d.Analysis(
        'report',
        'Write a Markdown report with tables and figures (PNG and SVG) about a whole snapshot.',
        (
            d.Option(('--out', '-o'), 'out_dir', 'Report directory to write.', kind='path', default='outputs/report', metavar='DIR'),
            d.Option(('--top',), 'top', 'Rows in each ranked table.', kind='int', default=20, metavar='N', least=1),
            d.SNAPSHOT,
            d.IGNORE,
            d.BASELINE,
        ),
    )),
    'risk': ('risk', d.Analysis(
        'risk',
        'Everything a risky model puts at risk, most downloaded first; exit 1 if anything is affected.',
        (
            d.COMPROMISED,
            d.FROM_FILE.but(help='More compromised models, one id a line (# comments, ORG/NAME@REVISION accepted).', extends='compromised'),
            d.Option(('--data-risks',), 'data_risks', "Also spread pickle-only weights, missing and conflicting licences, files the Hub's scan calls unsafe.", kind='flag', default=False, filter=True),
            d.Option(('--dependency',), 'dependency', 'Only affected models of this dependency kind: runtime_code, runtime, inherited (repeatable).', kind='choice', metavar='KIND', choices=d.choices('DependencyChoice', ('runtime_code', 'runtime', 'inherited')), many=True, filter=True),
            d.Option(('--created-after',), 'created_after', 'Only affected models created on or after this day (ISO, YYYY-MM-DD).', metavar='DATE', filter=True),
            d.Option(('--created-before',), 'created_before', 'Only affected models created before this day (ISO, YYYY-MM-DD).', metavar='DATE', filter=True),
            d.Option(('--sort',), 'sort', 'Row order: most downloaded, nearest, or by id.', kind='choice', default='downloads', metavar='downloads|depth|id', choices=d.choices('RiskSort', ('downloads', 'depth', 'id'))),
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.PATHS,
            d.OFFLINE,
            d.MAX_AGE,
            d.LOOKUP_MAX_MODELS,
        ),
    )),
    'search': ('model_search', d.Analysis(
        'search',
        'Models whose id contains QUERY, whose author is QUERY or that carry the tag QUERY, most downloaded first.',
        (
            d.Option(('QUERY',), 'text', 'Part of an id, an author, or a Hub tag.', argument=True, required=True),
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT.but(default=20),
            d.CSV_RAW,
            d.PROVENANCE,
        ), query=False,
    )),
    'stale': ('staleness', d.Analysis(
        'stale',
        'Stale ancestors: bases whose weights (or only card) changed after the model was made, with a newer version, or unavailable (disabled or not found; gated is not).',
        (
            d.MODELS.but(help='Model id (default: every model).', many=False),
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT,
            d.CSV_RAW,
            d.Option(('--since',), 'since', 'Only ancestors that changed after this earlier snapshot (what changed since I looked).', kind='snapshot', metavar='OLD_SNAPSHOT', filter=True),
        ),
    )),
    'stats': ('overview', d.Analysis(
        'stats',
        'Counts: models, edges by relation and evidence, dangling references, roots, depths, components.',
        (
            d.SNAPSHOT,
            d.FORMAT,
            d.LIMIT.but(default=0),
            d.CSV_RAW,
        ),
    )),
    'why': ('why', d.Analysis(
        'why',
        "Every path by which MODEL derives from ANCESTOR, hop by hop with each edge's relation and evidence; exit 1 when there is none.",
        (
            d.MODELS.but(help='The derived model (ORG/NAME or a Hub URL).', many=False, required=True),
            d.Option(('ANCESTOR',), 'ancestor', 'The ancestor it may derive from.', argument=True, required=True),
            d.SNAPSHOT,
            d.FORMAT,
            d.Option(('--max-paths',), 'max_paths', 'List at most this many paths (merges multiply them).', kind='int', default=20, metavar='N', least=1),
            d.CSV_RAW,
            d.OFFLINE,
            d.MAX_AGE,
        ),
    )),
}


if __name__ == "__main__":  # pragma: no cover - writes this file
    from pathlib import Path

    from ptmgraph.cli_index_writer import command_index

    Path(__file__).write_text(command_index())
