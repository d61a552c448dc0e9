import ArgumentParser
import Foundation
import JobEngine
import TimebankOperations
import TimebankWorkers
import WorkerHost

#if canImport(Glibc)
import Glibc
#endif

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A live view of the queues and the workers, refreshed every second; q or Ctrl-C quits.",
        discussion: "Reads PostgreSQL only, fits 80 columns (works over SSH). --once prints one frame and exits (for scripts).")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Seconds between frames.") var interval = 1.0
    @Option(help: "Columns to fit.") var width = 80
    @Flag(help: "Print one frame and exit.") var once = false

    func run() async throws {
        let connection = try await Jobs.connect(database)
        let view = TopView(width: width)
        if once {
            print(view.render(try await TopSnapshot.take(connection)).joined(separator: "\n"))
            return
        }
        let terminal = RawTerminal()
        defer { terminal.restore() }
        var previous: TopSnapshot?
        while true {
            let snapshot = try await TopSnapshot.take(connection)
            let frame = view.render(snapshot, previous: previous)
            // Home, clear, the frame.
            FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + frame.joined(separator: "\r\n") + "\r\n").utf8))
            previous = snapshot
            if terminal.quitPressed(within: interval) { break }
        }
    }
}

/// The terminal in raw mode while `top` runs (keys arrive one by one, Ctrl-C
/// as a byte), restored on exit. Not a terminal: nothing changes and only
/// SIGINT stops the loop.
final class RawTerminal {
    private var saved = termios()
    private let active: Bool

    init() {
        active = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &saved) == 0
        guard active else { return }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    }

    func restore() {
        guard active else { return }
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }

    /// Waits up to `seconds` for a key; true for q, Q or Ctrl-C.
    func quitPressed(within seconds: Double) -> Bool {
        guard active else {
            Thread.sleep(forTimeInterval: seconds)
            return false
        }
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(seconds * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        guard read(STDIN_FILENO, &byte, 1) == 1 else { return true }
        return byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 3
    }
}
