"""The overview's volume chart: a server-rendered SVG (no JavaScript, no library)."""

from __future__ import annotations

from markupsafe import Markup, escape

from clearing_gateway.kit.money import format_amount

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 1000, 220, 80, 22, 18
DEPOSIT_COLOUR, WITHDRAWAL_COLOUR = "#1d4ed8", "#f79009"


def compact(minor: int) -> str:
    """An axis label: IDR in thousands, millions or billions (the exact sum is in the
    bar's tooltip)."""
    value = minor / 100
    for limit, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " K")):
        if value >= limit:
            return f"IDR {value / limit:.1f}{suffix}"
    return f"IDR {value:.0f}"


def hourly_volume_svg(points: list[tuple[str, int, int]]) -> Markup:
    """Bars per UTC hour, deposits and withdrawals side by side (IDR, minor units in)."""
    by_hour = {hour: (d, w) for hour, d, w in points}
    hours = [f"{h:02d}" for h in range(24)]
    peak = max([max(d, w) for d, w in by_hour.values()] or [0]) or 1
    plot_w = WIDTH - PAD_LEFT - 10
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / 24
    bar = max(2.0, slot / 2 - 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="Volume by hour today (UTC)">',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 10}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#d0d5dd"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 8}" text-anchor="end">'
        f"{escape(compact(peak))}</text>",
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for index, hour in enumerate(hours):
        deposits, withdrawals = by_hour.get(hour, (0, 0))
        x = PAD_LEFT + index * slot + 1
        for offset, value, colour, what in (
            (0.0, deposits, DEPOSIT_COLOUR, "deposits"),
            (bar + 1, withdrawals, WITHDRAWAL_COLOUR, "withdrawals"),
        ):
            height = plot_h * value / peak
            if value:
                height = max(height, 1.0)
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{PAD_TOP + plot_h - height:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{colour}">'
                f"<title>{hour}:00 {what} {escape(format_amount(value, 'IDR'))} IDR</title></rect>"
            )
        if index % 3 == 0:
            parts.append(
                f'<text x="{x + bar:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{hour}</text>'
            )
    parts.append(
        f'<rect x="{WIDTH - 210}" y="2" width="10" height="10" fill="{DEPOSIT_COLOUR}"/>'
        f'<text x="{WIDTH - 196}" y="11">deposits</text>'
        f'<rect x="{WIDTH - 120}" y="2" width="10" height="10" fill="{WITHDRAWAL_COLOUR}"/>'
        f'<text x="{WIDTH - 106}" y="11">withdrawals</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
