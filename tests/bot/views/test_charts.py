"""The digest chart is a real PNG that Slack can preview."""

import io
import struct
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.views.charts import render_compliance_chart
from commands.charts import DailyCompliance

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _eight_weeks(first_day=date(2026, 9, 28)):
    days = []
    for i in range(56):
        quiet = i % 7 in (5, 6)  # weekends have no tickets
        days.append(
            DailyCompliance(
                day=first_day + timedelta(days=i),
                first_response=None if quiet else 80.0 + (i % 5) * 4,
                resolution=None if quiet else 70.0 + (i % 3) * 10,
            )
        )
    return days


def test_chart_is_a_valid_png_of_sensible_size():
    png = render_compliance_chart(_eight_weeks(), goal_percent=95, title="Compliance, 8 weeks")

    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # IHDR chunk follows the signature
    assert (width, height) == (1000, 500)
    assert 5_000 < len(png) < 300_000
    image = Image.open(io.BytesIO(png))
    image.verify()  # raises on a truncated or corrupt file
    assert image.format == "PNG"


def test_chart_draws_something_besides_the_background():
    png = render_compliance_chart(_eight_weeks(), goal_percent=95, title="t")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000)
    # Lines, goal line, labels and antialiasing give many distinct colours.
    assert len(colours) > 20


def test_chart_of_days_without_any_data_still_renders():
    days = [DailyCompliance(date(2026, 11, 2) + timedelta(days=i), None, None) for i in range(7)]
    png = render_compliance_chart(days, goal_percent=90, title="Quiet week")
    assert png.startswith(PNG_SIGNATURE)


def test_chart_without_days_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="at least one day"):
        render_compliance_chart([], goal_percent=95, title="t")
