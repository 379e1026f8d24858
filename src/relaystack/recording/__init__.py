"""Record and replay upstream HTTP traffic in the reference system's recording format."""

from relaystack.recording.transport import MODES, Mode, RecordingMissError, RecordingTransport

__all__ = ["MODES", "Mode", "RecordingMissError", "RecordingTransport"]
