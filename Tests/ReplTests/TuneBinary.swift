import Foundation
import XCTest

/// The built `tune` executable and a way to run it.
enum TuneBinary {
    /// Beside the test bundle (`.build/<config>/`), where SwiftPM puts the products it built.
    static var url: URL {
        get throws {
            let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            var candidates = [besideTests.appendingPathComponent("tune")]
            let root = packageRoot
            for config in ["debug", "release"] {
                candidates.append(root.appendingPathComponent(".build/\(config)/tune"))
            }
            for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
            throw MissingBinary("the tune executable was not found; looked at " + candidates.map(\.path).joined(separator: ", "))
        }
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var fixtures: URL { packageRoot.appendingPathComponent("Tests/Fixtures/scripts") }

    struct Result: Equatable {
        var stdout: String
        var stderr: String
        var status: Int32
    }

    /// The model cache of the user running the tests (where Scripts/setup put the default
    /// model), so that a test's empty HOME does not make the binary fetch it again.
    static let modelCache: String = ProcessInfo.processInfo.environment["MODELSCOPE_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
        ?? NSHomeDirectory() + "/.cache/modelscope/hub"

    /// Runs `executable` with `arguments` in `directory`, stdin from `input` (or /dev/null),
    /// with HOME set to an empty temporary directory.
    static func run(_ executable: URL, _ arguments: [String], in directory: URL, input: URL? = nil,
                    environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("tune-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        var env = ["HOME": home.path, "PATH": try url.deletingLastPathComponent().path + ":/usr/bin:/bin",
                   "NO_COLOR": "1", "LANG": "C.UTF-8", "MODELSCOPE_CACHE": modelCache]
        for (k, v) in extra { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = try FileHandle(forReadingFrom: input ?? URL(fileURLWithPath: "/dev/null"))
        try process.run()
        // Read both pipes to the end before waiting, so a full pipe cannot stall the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return Result(stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                      status: process.terminationStatus)
    }
}

/// An error that fails the test with a message (never a skip).
struct MissingBinary: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
