"""House style for taowatch dashboards: the factories every dashboard module builds from.

Everything that should look the same on every dashboard lives here, so a dashboard module
reads as a list of questions (panel title, description, query) and not as Grafana plumbing:

- every panel and query points at ``${datasource}``, never at a named datasource, so the
  dashboards work in any Grafana whatever its Prometheus is called;
- neuron-level queries select ``netuid=~"$netuid", hotkey=~"$hotkey"``;
- counters are named from ``common.metric_names`` and get their ``_total`` here;
- thresholds come from ``alerts/thresholds.yaml`` (the alert rules' own numbers, passed in as
  :class:`Knobs`), so a panel turns red exactly when the alert would fire.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass

from grafana_foundation_sdk.builders import (
    common as common_builders,
)
from grafana_foundation_sdk.builders import (
    dashboard,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models

from common.metric_names import Exporter

DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ("taowatch", "bittensor")

# Selector fragments. Multi-value variables expand to regex alternations, hence =~.
NEURON = 'netuid=~"$netuid", hotkey=~"$hotkey"'
SUBNET = 'netuid=~"$netuid"'

# Units: Grafana unit ids where one exists, "suffix:" custom units for chain quantities.
BLOCKS = "suffix: blocks"
TEMPOS = "suffix: tempos"
TAO = "suffix: TAO"
ALPHA = "suffix: alpha"
RATIO = "percentunit"
SECONDS = "s"
COUNT = "short"
POLLS = "suffix: polls"
PER_SECOND = "reqps"
OPS = "ops"
TIMESTAMP = "dateTimeFromNow"
NONE = "none"

GREEN, YELLOW, ORANGE, RED, BLUE = "green", "yellow", "orange", "red", "blue"


# --- thresholds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Knobs:
    """The alert rules' numbers (``alerts/thresholds.yaml``), handed to every ``build()``.

    Lookups fail loudly when a key is gone or of the wrong kind: a renamed alert knob must
    not silently leave a dashboard colouring at an old number.
    """

    values: Mapping[str, typing.Any]
    source: str  # where the values came from, for the person fixing a message

    def _knob(self, key: str) -> typing.Any:
        if key not in self.values:
            raise KeyError(
                f"{self.source}: no key {key!r}; a dashboard panel colours at it (if the "
                "alert's knob was renamed, rename it in grafana/dashboards/builders too)"
            )
        return self.values[key]

    def threshold(self, key: str) -> float:
        """The number an alert rule compares against."""
        value = self._knob(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.source}: {key!r} is {value!r}, expected a number")
        return value

    def window(self, key: str) -> str:
        """An alert's range window (a Prometheus duration such as ``30m``) for ``[...]``."""
        value = self._knob(key)
        if not isinstance(value, str) or not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", value):
            raise ValueError(f"{self.source}: {key!r} is {value!r}, expected a duration")
        return value

    def setting(self, key: str) -> str:
        """A string knob, such as the scrape job names the alert rules select on."""
        value = self._knob(key)
        if not isinstance(value, str):
            raise ValueError(f"{self.source}: {key!r} is {value!r}, expected a string")
        return value


def steps(base: str = GREEN, *levels: tuple[float, str]) -> dashboard.ThresholdsConfig:
    """Absolute threshold steps: ``base`` below the first level, then each (value, colour)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(dashboard_models.ThresholdsMode.ABSOLUTE)
        .steps(
            [dashboard_models.Threshold(value=None, color=base)]
            + [dashboard_models.Threshold(value=value, color=colour) for value, colour in levels]
        )
    )


def rising(warning: float | None, critical: float | None) -> dashboard.ThresholdsConfig:
    """Green, then orange at ``warning``, red at ``critical`` (higher is worse)."""
    levels = []
    if warning is not None:
        levels.append((warning, ORANGE))
    if critical is not None:
        levels.append((critical, RED))
    return steps(GREEN, *levels)


def falling(warning: float | None, critical: float | None) -> dashboard.ThresholdsConfig:
    """Red below ``critical``, orange below ``warning``, green from there (lower is worse)."""
    if critical is None:
        return steps(ORANGE, (warning, GREEN))
    if warning is None:
        return steps(RED, (critical, GREEN))
    return steps(RED, (critical, ORANGE), (warning, GREEN))


def neutral() -> dashboard.ThresholdsConfig:
    """A single colour: the value has no good or bad reading on its own."""
    return steps(BLUE)


# --- queries ----------------------------------------------------------------------------


def series(name: str, match: str = NEURON) -> str:
    return f"{name}{{{match}}}"


def total(name: str) -> str:
    """A counter's wire name: metric_names holds counters without ``_total``."""
    return f"{name}_total"


def counter(name: str, match: str = NEURON) -> str:
    return f"{total(name)}{{{match}}}"


def rate(name: str, by: str, match: str = NEURON) -> str:
    return f"sum by ({by}) (rate({counter(name, match)}[$__rate_interval]))"


def increase(name: str, by: str, match: str = NEURON) -> str:
    return f"sum by ({by}) (increase({counter(name, match)}[$__rate_interval]))"


def quantile(q: float, histogram: str, by: str, match: str = NEURON) -> str:
    return (
        f"histogram_quantile({q}, sum by (le, {by}) "
        f"(rate({histogram}_bucket{{{match}}}[$__rate_interval])))"
    )


def query(expr: str, legend: str = "", *, instant: bool = False, table_format: bool = False):
    target = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend:
        target = target.legend_format(legend)
    if instant:
        target = target.instant()
    else:
        target = target.range()
    if table_format:
        from grafana_foundation_sdk.models.prometheus import PromQueryFormat

        target = target.format(PromQueryFormat.TABLE)
    return target


def _with_targets(panel, targets):
    # Grafana needs distinct refIds to keep queries apart; the SDK leaves them empty.
    for index, target in enumerate(targets):
        panel = panel.with_target(target.ref_id(chr(ord("A") + index)))
    return panel


# --- shared expressions: the alert rules' quantities, as panels show them ----------------


def weights_age_tempos() -> str:
    """Blocks since the neuron last set weights, in tempos (the warning alert's quantity)."""
    return (
        f"{series(Exporter.NEURON_BLOCKS_SINCE_LAST_UPDATE)} / on (netuid) group_left ()"
        f" max by (netuid) ({series(Exporter.SUBNET_TEMPO_BLOCKS, SUBNET)})"
    )


def weights_critical_tempos(knobs: Knobs) -> str:
    """Where the critical weights alert fires, in tempos: it is set as a share of the
    subnet's activity cutoff, so the line differs per subnet and is drawn as a series."""
    ratio = knobs.threshold("weights_stale_critical_cutoff_ratio")
    return (
        f"{ratio} * max by (netuid) ({series(Exporter.SUBNET_ACTIVITY_CUTOFF_BLOCKS, SUBNET)})"
        f" / max by (netuid) ({series(Exporter.SUBNET_TEMPO_BLOCKS, SUBNET)})"
    )


def weights_thresholds(knobs: Knobs) -> dashboard.ThresholdsConfig:
    return steps(GREEN, (knobs.threshold("weights_stale_warning_tempos"), ORANGE))


def stake_drop_ratio(knobs: Knobs) -> str:
    """Share of the alpha stake's peak over the stake-drop window that is gone now."""
    stake = series(Exporter.NEURON_STAKE_ALPHA)
    return f"1 - {stake} / max_over_time({stake}[{knobs.window('stake_drop_window')}])"


def stake_drop_thresholds(knobs: Knobs) -> dashboard.ThresholdsConfig:
    return rising(
        knobs.threshold("stake_drop_warning_ratio"), knobs.threshold("stake_drop_critical_ratio")
    )


def data_age_polls() -> str:
    """Age of the exporter's last successful poll in poll intervals (the stale alert's unit)."""
    return (
        f"(time() - {Exporter.EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS})"
        f" / {Exporter.EXPORTER_POLL_INTERVAL_SECONDS}"
    )


def immunity_thresholds(knobs: Knobs) -> dashboard.ThresholdsConfig:
    """Orange while immunity is running out (1..immunity_ending_blocks, as the alert's
    ``> 0 and <=``); 0 is a neuron long past immunity, not a warning."""
    ending = knobs.threshold("immunity_ending_blocks")
    return steps(GREEN, (1, ORANGE), (ending + 1, GREEN))


def eviction_thresholds(knobs: Knobs) -> dashboard.ThresholdsConfig:
    """Red at or below the position the deregistration-risk alert watches (0 = next)."""
    return steps(RED, (knobs.threshold("pruning_position_max") + 1, GREEN))


# --- panels -----------------------------------------------------------------------------

HOTKEY_LEGEND = "sn{{netuid}} {{hotkey}}"


def timeseries_panel(
    title: str,
    description: str,
    unit: str,
    *targets,
    thresholds: dashboard.ThresholdsConfig | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    stepped: bool = False,
    width: int = 12,
    height: int = 8,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .span(width)
        .height(height)
        .fill_opacity(10)
        .show_points(common_models.VisibilityMode.NEVER)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(
            common_builders.VizTooltipOptions()
            .mode(common_models.TooltipDisplayMode.MULTI)
            .sort(common_models.SortOrder.DESCENDING)
        )
    )
    if stepped:
        panel = panel.line_interpolation(common_models.LineInterpolation.STEP_AFTER)
    if thresholds is not None:
        panel = panel.thresholds(thresholds).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common_models.GraphThresholdsStyleMode.DASHED
            )
        )
    else:
        panel = panel.thresholds(neutral())
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    return _with_targets(panel, targets)


def stat_panel(
    title: str,
    description: str,
    unit: str,
    *targets,
    thresholds: dashboard.ThresholdsConfig | None = None,
    mappings: list[dashboard_models.ValueMapping] | None = None,
    width: int = 4,
    height: int = 4,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .span(width)
        .height(height)
        .thresholds(thresholds if thresholds is not None else neutral())
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if mappings:
        panel = panel.mappings(mappings)
    return _with_targets(panel, targets)


def table_panel(
    title: str,
    description: str,
    columns: list[tuple[str, str, str, dashboard.ThresholdsConfig | None]],
    *,
    hide: tuple[str, ...] = ("Time", "job", "instance", "__name__"),
    width: int = 24,
    height: int = 8,
) -> table.Panel:
    """One row per series key, one column per (header, unit, expr, thresholds) instant query.

    The queries are instant, table-formatted and merged on their shared labels, so each
    column can carry its own unit and colouring while the panel still answers one question.
    """
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .unit(NONE)
        .datasource(DATASOURCE)
        .span(width)
        .height(height)
        .thresholds(neutral())
    )
    renames: dict[str, str] = {}
    for index, (header, unit, _expr, column_thresholds) in enumerate(columns):
        ref = chr(ord("A") + index)
        # Grafana names a lone query's value column "Value", and "Value #<refId>" otherwise.
        value_field = "Value" if len(columns) == 1 else f"Value #{ref}"
        renames[value_field] = header
        properties = [dashboard_models.DynamicConfigValue(id_val="unit", value=unit)]
        if column_thresholds is not None:
            properties += [
                dashboard_models.DynamicConfigValue(
                    id_val="thresholds", value=column_thresholds.build()
                ),
                dashboard_models.DynamicConfigValue(
                    id_val="custom.cellOptions", value={"type": "color-background"}
                ),
            ]
        panel = panel.override_by_name(header, properties)
    panel = panel.with_transformation(
        dashboard_models.DataTransformerConfig(id_val="merge", options={})
    ).with_transformation(
        dashboard_models.DataTransformerConfig(
            id_val="organize",
            options={
                "excludeByName": {name: True for name in hide},
                "renameByName": renames,
            },
        )
    )
    targets = [query(expr, instant=True, table_format=True) for _, _, expr, _ in columns]
    return _with_targets(panel, targets)


def value_mappings(mapping: dict[int, tuple[str, str]]) -> list[dashboard_models.ValueMapping]:
    return [
        dashboard_models.ValueMap(
            options={
                str(value): dashboard_models.ValueMappingResult(text=text, color=colour, index=i)
                for i, (value, (text, colour)) in enumerate(sorted(mapping.items()))
            }
        )
    ]


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)


# --- variables --------------------------------------------------------------------------


def datasource_variable() -> dashboard.DatasourceVariable:
    return (
        dashboard.DatasourceVariable("datasource")
        .label("Prometheus")
        .type("prometheus")
        .description("The Prometheus that scrapes the taowatch agent and neurons.")
    )


def label_variable(
    name: str,
    label: str,
    metric: str,
    match: str = "",
    *,
    multi: bool = True,
    description: str = "",
) -> dashboard.QueryVariable:
    selector = f"{metric}{{{match}}}" if match else metric
    variable = (
        dashboard.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(
            {
                "query": f"label_values({selector}, {name})",
                "refId": "PrometheusVariableQueryEditor-VariableQuery",
                "qryType": 1,
            }
        )
        .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_models.VariableSort.NATURAL_ASC)
    )
    if multi:
        variable = variable.multi(True).include_all(True).all_value(".*")
    return variable


# --- annotations ------------------------------------------------------------------------


class _PrometheusAnnotationModel(dashboard_models.AnnotationQuery):
    """An annotation query with the Prometheus datasource's own fields.

    The SDK's AnnotationQuery only knows ``expr``; Grafana's Prometheus annotations also need
    the title/text templates and the step, or every marker reads "undefined".
    """

    def __init__(self, title_format: str, text_format: str, tag_keys: str, **kwargs):
        super().__init__(**kwargs)
        self.title_format = title_format
        self.text_format = text_format
        self.tag_keys = tag_keys

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload.update(
            {
                "titleFormat": self.title_format,
                "textFormat": self.text_format,
                "tagKeys": self.tag_keys,
                "step": "1m",
                "useValueForTime": False,
            }
        )
        return payload


class PrometheusAnnotation(cogbuilder.Builder[dashboard_models.AnnotationQuery]):
    def __init__(
        self, name: str, expr: str, colour: str, title_format: str, text_format: str
    ) -> None:
        self._model = _PrometheusAnnotationModel(
            title_format=title_format,
            text_format=text_format,
            tag_keys="netuid,hotkey",
            name=name,
            datasource=DATASOURCE,
            enable=True,
            hide=False,
            icon_color=colour,
            expr=expr,
        )

    def build(self) -> dashboard_models.AnnotationQuery:
        return self._model


# --- dashboards -------------------------------------------------------------------------


def base_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .readonly()
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .link(
            dashboard.DashboardLink("taowatch")
            .type(dashboard_models.DashboardLinkType.DASHBOARDS)
            .tags(["taowatch"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .with_variable(datasource_variable())
    )


def _strip_panel_ids(panels: list[dict[str, typing.Any]]) -> None:
    # Grafana assigns panel ids on load; committed ids only cause merge conflicts, and the
    # SDK's row model always emits one. Only panel ids go: transformations, overrides and
    # field config use "id" for something else.
    for panel in panels:
        panel.pop("id", None)
        _strip_panel_ids(panel.get("panels", []))


def render(builder: dashboard.Dashboard) -> str:
    """The committed JSON text for a dashboard: deterministic, no ids, no version."""
    document = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    _strip_panel_ids(document.get("panels", []))
    document.pop("id", None)
    document.pop("version", None)
    return JSONEncoder(sort_keys=True, indent=2).encode(document) + "\n"
