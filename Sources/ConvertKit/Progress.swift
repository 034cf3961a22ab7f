// Progress of long work, reported to whoever shows it: the library never draws on a terminal itself.

/// What the amounts of a progress report count.
public enum ProgressUnit: Sendable {
    /// Bytes written.
    case bytes
    /// Segments (RMT) processed.
    case segments
}

/// One step of progress: work started (with its total), advanced to `done`, or finished.
public enum ProgressEvent: Sendable {
    case started(label: String, total: Int, unit: ProgressUnit)
    case advanced(done: Int)
    case finished
}

/// Receives progress events; the CLI draws a bar for long work on a terminal.
public typealias ProgressHandler = (ProgressEvent) -> Void
