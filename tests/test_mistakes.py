"""A newcomer's mistakes (issue 13): each gets one line and the exit code that says whose move it is. Here,
for now, the settings: every numeric one is checked against its range where it is read."""

from __future__ import annotations

import pytest

from linkkeeper.settings import RANGES, Settings, SettingsError, load


@pytest.mark.parametrize("name", sorted(RANGES))
def test_every_numeric_setting_has_its_range_checked(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no settings file
    low, high, open_low = RANGES[name]
    kind = type(getattr(Settings(), name))
    bad = (low if open_low else low - 1) if low is not None else None
    with pytest.raises(SettingsError, match=name):
        load(None, env={f"LINKKEEPER_{name.upper()}": str(kind(bad))})
    if high is not None:
        with pytest.raises(SettingsError, match=name):
            load(None, env={f"LINKKEEPER_{name.upper()}": str(kind(high + 1))})
    # The default is in range, and so is the least value allowed.
    assert getattr(load(None, env={}), name) == getattr(Settings(), name)
    least = low + (0.5 if open_low else 0)
    assert getattr(load(None, env={f"LINKKEEPER_{name.upper()}": str(kind(least))}),
                   name) == kind(least)


def test_a_rate_of_0_means_no_limit_and_a_threshold_above_1_approves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"LINKKEEPER_CDX_RATE": "0", "LINKKEEPER_AUTO_APPROVE_CONFIDENCE": "1.01"}
    settings = load(None, env=env)
    assert (settings.cdx_rate, settings.auto_approve_confidence) == (0.0, 1.01)
