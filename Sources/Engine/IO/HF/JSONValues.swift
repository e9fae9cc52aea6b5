import Foundation

/// Typed reads of values that Foundation's JSONSerialization returns (`Any`), without the
/// bridging surprises: `true` is not the number 1, 2.5 is not the integer 2.
enum JSONValues {
    private static let booleanType = type(of: NSNumber(value: true))

    static func isBool(_ value: Any) -> Bool {
        if let n = value as? NSNumber { return type(of: n) == booleanType }
        return false
    }

    static func bool(_ value: Any) -> Bool? {
        guard isBool(value), let n = value as? NSNumber else { return nil }
        return n.boolValue
    }

    /// A JSON number that is a whole number fitting in `Int`.
    static func int(_ value: Any) -> Int? {
        guard !isBool(value), let n = value as? NSNumber else { return nil }
        if let i = value as? Int { return i }
        let d = n.doubleValue
        guard d.isFinite, d.rounded() == d, let i = Int(exactly: d) else { return nil }
        return i
    }

    static func double(_ value: Any) -> Double? {
        guard !isBool(value), let n = value as? NSNumber else { return nil }
        return n.doubleValue
    }

    static func isNull(_ value: Any) -> Bool { value is NSNull }

    /// Parses JSON text whose top level must be an object.
    static func object(from data: Data, path: String, what: String) throws -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw FileError(path: path, problem: "\(what) is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw FileError(path: path, problem: "\(what) must be a JSON object")
        }
        return object
    }
}
