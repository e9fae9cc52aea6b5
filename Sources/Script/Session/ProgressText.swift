import Engine
import Foundation

/// The words of a progress line, as the REPL redraws it and a script prints it:
/// `sft 3/6 [############            ] epoch 0.5 loss 1.234 lr 9.5e-05 tokens/s 210.5 elapsed 1m 5s eta 1m 5s`.
/// Times are clocks in ms-swift's format, the one logging.jsonl's elapsed_time and
/// remaining_time use.
public enum ProgressText {
    public static let barWidth = 24

    /// `bar`: draw the bar (on a terminal only).
    public static func line(_ event: ProgressEvent, bar: Bool) -> String {
        // An event with no count yet is a message ("fetching ..."): shown as it is.
        var text = event.total == nil && event.completed == 0 ? event.task : event.task + " " + String(event.completed)
        if let total = event.total, total > 0 {
            text += "/\(total)"
            if bar {
                let filled = min(barWidth, max(0, event.completed * barWidth / total))
                text += " [" + String(repeating: "#", count: filled) + String(repeating: " ", count: barWidth - filled) + "]"
            }
        }
        for key in event.metrics.keys.sorted() {
            text += " " + key + " " + String(format: "%.4g", event.metrics[key]!)
        }
        if let s = event.elapsedSeconds, s.isFinite { text += " elapsed " + clock(s) }
        if let s = event.remainingSeconds, s.isFinite { text += " eta " + clock(s) }
        return text
    }

    /// "42s", "1m 5s", "1h 2m 3s", "2d 3h 0m 1s" (ms-swift's `format_time`).
    public static func clock(_ seconds: Double) -> String { TrainingTimeFormat.string(seconds: seconds) }
}
