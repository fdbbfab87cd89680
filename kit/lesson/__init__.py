"""Helpers for the teaching notebooks: validated parameters, explorers, static figures, quick checks.

Presentation only. Every number comes from the engine (cost, recommend, catalog); this package turns
results into widgets, SVG and tables. Each interactive object also carries a static rendering, so an
executed notebook read without a kernel (papermill, nbconvert, GitHub) still shows its charts.

The notebooks call ``lesson.NAME``; the modules below hold them by role:

* ``inputs``      the parameters cell's validation (scenario, profile, inputs)
* ``figures``     static SVG figures, HTML and full tables
* ``explorer``    sliders plus a view the engine redraws
* ``views``       one view per decision axis, the checklist and the whole decision
* ``cost_lesson`` notebook 02's derivations (break-even and utilisation formulas, GPUs per replica)
* ``axes_lesson`` notebooks 03-05: where the data may go, who owns which duty, what launch takes
* ``tables``      data sources, assumptions, glossary, licences, worked costs
* ``seeds``       the seeds' grid, profiles, heuristics, four questions and criteria, run through the engine
* ``quiz``        quick checks with feedback
* ``local_demo``  notebook 07 (local models)
* ``router_demo`` notebook 08 (the hybrid router)
"""

from __future__ import annotations

from kit.lesson.axes_lesson import duties_on_you, duties_table, launch_plan, reach_table
from kit.lesson.cost_lesson import (
    break_even_formula,
    break_even_pairs,
    exact_crossing,
    formula_table,
    gpus_per_replica_note,
    hidden_costs,
    memory_reading_table,
    replica_memory,
    rule_of_thumb_table,
    serving_summary,
    staff_table,
    utilisation_ceiling,
    utilisation_formula,
    utilisation_formula_table,
)
from kit.lesson.explorer import Explorer, explore
from kit.lesson.figures import HTML, Figure, figure, show, table
from kit.lesson.inputs import check_injected, inputs, model_ids, profile, scenario
from kit.lesson.local_demo import (
    accuracy_figure,
    batching_table,
    evaluate_all,
    local_models_table,
    machine_table,
    quant_table,
    results_table,
    runs_table,
    side_by_side,
    stream,
)
from kit.lesson.parity_lesson import context_table, fit_table, fleet_table, options_table
from kit.lesson.quiz import Question, QuickCheck, questions, quick_check
from kit.lesson.router_demo import log_summary, router_log, router_view, summary_table
from kit.lesson.seeds import (
    calculus_table,
    criteria_table,
    decision_grid,
    default_shares,
    defaults_table,
    exceptions_table,
    four_questions,
    heuristic_box,
    inputs_not_set,
    mistral_tiers,
    profiles_table,
    weights_effect,
    weights_view,
)
from kit.lesson.tables import (
    assumptions,
    bands_table,
    break_even_table,
    by_hand_table,
    cost_table,
    glossary,
    headline,
    how_sure,
    licence_card,
    licences,
    ranges_table,
    residency_rules,
    seed003_reconciliation,
    sources,
    terms_markdown,
    terms_names,
    tiers_table,
    utilisation_table,
    weights_table,
)
from kit.lesson.views import (
    axis_note,
    checklist_html,
    control_view,
    cost_view,
    decision_view,
    ecosystem_view,
    parity_view,
    security_view,
    staffing,
    time_view,
    tornado,
    warnings_html,
)

__all__ = [
    "calculus_table",
    "criteria_table",
    "decision_grid",
    "default_shares",
    "defaults_table",
    "exceptions_table",
    "four_questions",
    "heuristic_box",
    "inputs_not_set",
    "mistral_tiers",
    "profiles_table",
    "weights_effect",
    "weights_view",
    "break_even_formula",
    "break_even_pairs",
    "exact_crossing",
    "formula_table",
    "gpus_per_replica_note",
    "memory_reading_table",
    "serving_summary",
    "hidden_costs",
    "replica_memory",
    "rule_of_thumb_table",
    "staff_table",
    "utilisation_ceiling",
    "utilisation_formula",
    "utilisation_formula_table",
    "duties_table",
    "duties_on_you",
    "launch_plan",
    "reach_table",
    "bands_table",
    "how_sure",
    "time_view",
    "tornado",
    "ranges_table",
    "by_hand_table",
    "seed003_reconciliation",
    "Explorer",
    "explore",
    "HTML",
    "Figure",
    "figure",
    "show",
    "table",
    "check_injected",
    "inputs",
    "model_ids",
    "profile",
    "scenario",
    "accuracy_figure",
    "evaluate_all",
    "local_models_table",
    "machine_table",
    "batching_table",
    "quant_table",
    "context_table",
    "fit_table",
    "fleet_table",
    "options_table",
    "results_table",
    "runs_table",
    "side_by_side",
    "stream",
    "Question",
    "QuickCheck",
    "questions",
    "quick_check",
    "log_summary",
    "router_log",
    "router_view",
    "summary_table",
    "assumptions",
    "break_even_table",
    "cost_table",
    "glossary",
    "headline",
    "licence_card",
    "licences",
    "residency_rules",
    "sources",
    "terms_markdown",
    "terms_names",
    "tiers_table",
    "utilisation_table",
    "weights_table",
    "axis_note",
    "checklist_html",
    "control_view",
    "cost_view",
    "decision_view",
    "ecosystem_view",
    "parity_view",
    "security_view",
    "staffing",
    "warnings_html",
]
