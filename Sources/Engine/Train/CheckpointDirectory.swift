#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `checkpoint-N` directories of a run: each is written complete under a temporary name and
/// then renamed into place, so a crash or a full disk never leaves a half checkpoint where a
/// good one was; `save_total_limit` rotation; `best` / `last` links.
struct CheckpointDirectory {
    let runDirectory: String

    func path(step: Int) -> String { runDirectory + "/checkpoint-\(step)" }

    /// Writes checkpoint `step` with `body` filling a fresh directory, then moves it into place.
    @discardableResult
    func write(step: Int, _ body: (String) throws -> Void) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let final = path(step: step)
        let temp = runDirectory + "/.checkpoint-\(step).partial-\(getpid())"
        try? fm.removeItem(atPath: temp)
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
        do {
            try body(temp)
        } catch {
            try? fm.removeItem(atPath: temp)
            throw error
        }
        var displaced: String?
        if fm.fileExists(atPath: final) {
            displaced = runDirectory + "/.checkpoint-\(step).replaced-\(getpid())"
            try? fm.removeItem(atPath: displaced!)
            guard rename(final, displaced!) == 0 else {
                try? fm.removeItem(atPath: temp)
                throw FileError(path: final, problem: "cannot move the previous checkpoint aside: \(String(cString: strerror(errno)))")
            }
        }
        guard rename(temp, final) == 0 else {
            let code = errno
            if let d = displaced { _ = rename(d, final) }
            try? fm.removeItem(atPath: temp)
            throw FileError(path: final, problem: "cannot move the new checkpoint into place: \(String(cString: strerror(code)))")
        }
        if let d = displaced { try? fm.removeItem(atPath: d) }
        syncDirectory(runDirectory)
        return final
    }

    /// Steps of the checkpoints present, ascending.
    func steps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("checkpoint-") else { return nil }
            return Int(name.dropFirst("checkpoint-".count))
        }.sorted()
    }

    /// Deletes the oldest checkpoints beyond `limit`, never the best one (HF keeps the best and,
    /// with a limit of 1, the latest as well).
    func rotate(limit: Int?, best: String?) {
        guard let limit, limit > 0 else { return }
        let all = steps().map(path(step:))
        var keep = limit
        if limit == 1, let best, best != all.last { keep = 2 }
        guard all.count > keep else { return }
        var candidates = all
        if let best, let i = candidates.firstIndex(of: best) {
            // HF moves the best to the end of the list before deleting from the front.
            candidates.remove(at: i)
            candidates.append(best)
        }
        for dir in candidates.prefix(all.count - keep) { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// `best` and `last` symbolic links in the run directory (`create_checkpoint_symlink`).
    func link(_ name: String, to checkpoint: String) throws {
        let link = runDirectory + "/" + name
        let temp = link + ".tmp-\(getpid())"
        unlink(temp)
        let target = (checkpoint as NSString).lastPathComponent
        guard symlink(target, temp) == 0, rename(temp, link) == 0 else {
            let code = errno
            unlink(temp)
            throw FileError(path: link, problem: "cannot create the link: \(String(cString: strerror(code)))")
        }
    }
}
