"""Settings come from defaults, then VECINFER_* variables, then flags."""

from pathlib import Path

from vecinfer.config import Settings


def test_environment_then_flags(monkeypatch):
    monkeypatch.setenv("VECINFER_GRPC_PORT", "7000")
    monkeypatch.setenv("VECINFER_STORAGE_DIR", "/tmp/x")
    monkeypatch.setenv("VECINFER_HOST", "0.0.0.0")
    settings = Settings.from_env(grpc_port=None, host="127.0.0.2")
    assert settings.grpc_port == 7000
    assert settings.storage_dir == Path("/tmp/x")
    assert settings.host == "127.0.0.2"
    assert settings.http_port == 6333
