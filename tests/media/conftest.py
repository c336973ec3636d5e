"""Rendered clips shared by the media tests: each is rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.media.storyboard import AnimaticSpec
from tests.media.helpers import SHOTS, make_spec, render


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def portrait_spec() -> AnimaticSpec:
    return make_spec(duration=5, aspect_ratio="9:16")


@pytest.fixture(scope="session")
def portrait_clip(portrait_spec: AnimaticSpec, clips_dir: Path) -> Path:
    return render(portrait_spec, clips_dir, "portrait")


@pytest.fixture(scope="session")
def portrait_clip_without_dialogue(clips_dir: Path) -> Path:
    return render(make_spec(duration=5, aspect_ratio="9:16", dialogue=()), clips_dir, "quiet")


@pytest.fixture(scope="session")
def landscape_spec() -> AnimaticSpec:
    return make_spec(duration=10, aspect_ratio="16:9", shots=SHOTS)


@pytest.fixture(scope="session")
def landscape_clip(landscape_spec: AnimaticSpec, clips_dir: Path) -> Path:
    return render(landscape_spec, clips_dir, "landscape")


@pytest.fixture(scope="session")
def silent_clip(clips_dir: Path) -> Path:
    return render(make_spec(duration=3, aspect_ratio="1:1", audio=False), clips_dir, "silent")
