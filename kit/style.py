"""The kit's one look: a colour per option and one stylesheet, for the app, the notebooks, the memo and the charts."""

from __future__ import annotations

# One colour per option, the same in every chart, card, gauge and memo (dark enough for text on white).
COLORS = {"closed_api": "#3556a3", "hosted_open": "#1f7a6f", "self_hosted_open": "#4a7326", "hybrid": "#b85b22"}
# Everything else: text, muted text, rules, panels, messages.
INK, MUTED, LINE, PANEL = "#1d2330", "#5b6272", "#e3e6ee", "#f4f6fa"
ERROR, WARN, GOOD, TRACK = "#8b1a10", "#7a4300", "#1f7a3a", "#e9ecf2"
# The two ends of a range in the tornado chart: an input at its low, at its high.
RANGE_LOW, RANGE_HIGH = "#a9b4cc", "#4b5874"

STYLESHEET = """
.kit-app {{ font-family: Helvetica, Arial, sans-serif; color: {ink}; }}
.kit-app .kit-header {{ padding: 6px 4px 10px 4px; border-bottom: 1px solid {line}; margin-bottom: 10px; }}
.kit-app .kit-title {{ font-size: 22px; font-weight: 700; }}
.kit-app .kit-sub {{ color: {muted}; font-size: 13px; margin-top: 2px; }}
.kit-app .kit-badge {{ display: inline-block; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #eef2f7; color: #334; margin-left: 6px; }}
.kit-app .kit-badge.stale {{ background: #fff3e0; color: {warn}; }}
.kit-app .kit-group-title {{ font-weight: 700; font-size: 14px; margin: 10px 0 0 0; }}
.kit-app .kit-group-help {{ color: {muted}; font-size: 11.5px; margin-bottom: 4px; }}
.kit-app .kit-help {{ color: {muted}; font-size: 11px; line-height: 1.25; margin: -4px 0 6px 4px; }}
.kit-app .kit-panel {{ background: #fff; border: 1px solid {line}; border-radius: 8px; padding: 10px 12px; }}
.kit-app .kit-card .kit-eyebrow {{ text-transform: uppercase; font-size: 11px; letter-spacing: .08em; color: {muted}; }}
.kit-app .kit-card .kit-choice {{ font-size: 26px; font-weight: 800; margin: 2px 0 4px 0; }}
.kit-app .kit-choice.kit-closed_api {{ color: {closed_api}; }} .kit-app .kit-choice.kit-hosted_open {{ color: {hosted_open}; }}
.kit-app .kit-choice.kit-self_hosted_open {{ color: {self_hosted_open}; }} .kit-app .kit-choice.kit-hybrid {{ color: {hybrid}; }}
.kit-app .kit-confidence {{ display: flex; align-items: center; gap: 8px; font-size: 13px; }}
.kit-app .kit-bar {{ display: inline-block; width: 160px; height: 8px; background: #e9ecf2; border-radius: 4px; overflow: hidden; }}
.kit-app .kit-bar > span {{ display: block; height: 100%; background: {closed_api}; }}
.kit-app .kit-costline {{ font-size: 13px; color: #334; margin: 6px 0; }}
.kit-app .kit-reasons {{ margin: 6px 0 4px 0; padding-left: 20px; font-size: 13px; line-height: 1.4; }}
.kit-app .kit-warnings {{ margin: 6px 0 0 0; padding: 6px 10px 6px 26px; background: #fff6e8; border-radius: 6px; color: {warn}; font-size: 12.5px; }}
.kit-app .kit-notallowed {{ margin: 6px 0 0 0; padding: 6px 10px 6px 26px; background: #f1f2f5; border-radius: 6px; color: #444; font-size: 12.5px; }}
.kit-app .kit-flips {{ font-size: 13px; line-height: 1.35; }} .kit-app .kit-flips ul {{ padding-left: 18px; margin: 4px 0; }}
.kit-app .kit-hangs {{ font-size: 13px; line-height: 1.35; margin-top: 10px; padding-top: 8px; border-top: 1px solid {line}; }} .kit-app .kit-hangs ul {{ padding-left: 18px; margin: 4px 0; }}
.kit-app .kit-flips li, .kit-app .kit-hangs li, .kit-app .kit-reasons li, .kit-app .kit-warnings li {{ margin: 2px 0; line-height: 1.35; }}
.kit-app .kit-pending {{ color: {muted}; }}
.kit-app .kit-band {{ font-size: 12.5px; color: {muted}; margin: 2px 0 0 0; }}
.kit-app .kit-sure-title {{ font-size: 14px; margin-bottom: 4px; }}
.kit-app .kit-payback {{ font-size: 13px; margin: 6px 0 2px 0; }}
.kit-app .muted {{ color: {muted}; font-size: 12px; }}
.kit-app .kit-chart svg {{ max-width: 100%; height: auto; }}
.kit-app .kit-status-error {{ background: #fdecea; color: {error}; border: 1px solid #f5c2bc; border-radius: 6px; padding: 8px 12px; font-size: 13px; }}
.kit-app .kit-status-busy {{ color: {muted}; font-size: 12px; }}
.kit-app a.kit-download {{ display: inline-block; margin: 4px 8px 0 0; padding: 5px 10px; border-radius: 5px; background: {closed_api}; color: #fff !important; text-decoration: none; font-size: 13px; }}
.kit-app .widget-label {{ font-size: 12.5px; }}
.kit-app .kit-table {{ border-collapse: collapse; font-size: 12.5px; margin: 4px 0; }}
.kit-app .kit-table th, .kit-app .kit-table td {{ border-bottom: 1px solid {line}; padding: 3px 8px; text-align: left; vertical-align: top; max-width: 520px; }}
.kit-app .kit-table thead th {{ background: {panel}; }}
.kit-app .kit-upload-button {{ height: 28px; padding: 0 12px; border: 1px solid #c9d0de; border-radius: 4px; background: {panel}; color: {ink}; font-size: 13px; cursor: pointer; }}
.kit-app .kit-upload-button:hover {{ background: {track}; }}
.kit-memo {{ font-family: Helvetica, Arial, sans-serif; color: {ink}; max-width: 980px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }}
.kit-memo h1 {{ font-size: 1.6em; margin-bottom: .2em; }}
.kit-memo h2 {{ font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid {line}; padding-bottom: .2em; }}
.kit-memo table {{ border-collapse: collapse; margin: .5em 0; }}
.kit-memo td, .kit-memo th {{ border: 1px solid {line}; padding: .25em .6em; text-align: left; vertical-align: top; }}
.kit-memo th {{ background: {panel}; }}
.kit-memo td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.kit-memo .choice {{ font-size: 1.3em; font-weight: bold; }}
.kit-memo .warn {{ color: {warn}; }}
.kit-memo .muted {{ color: {muted}; }}
.kit-memo figure {{ margin: 1em 0; }}
""".format(ink=INK, muted=MUTED, line=LINE, panel=PANEL, error=ERROR, warn=WARN, track=TRACK, **COLORS)

# The stylesheet as an HTML element, put once before the kit's HTML output.
STYLE = f"<style>{STYLESHEET}</style>"
