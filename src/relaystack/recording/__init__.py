"""Record and replay upstream HTTP traffic in the reference system's recording format."""

from relaystack.recording.modes import RECORD_MODES, RecordMode
from relaystack.recording.transport import RecordingMissError, RecordingTransport

__all__ = ["RECORD_MODES", "RecordMode", "RecordingMissError", "RecordingTransport"]
