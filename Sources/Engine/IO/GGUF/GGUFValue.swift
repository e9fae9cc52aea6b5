/// The value types GGUF metadata can hold, with their on-disk codes.
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
    case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes one value of a fixed-size type occupies; nil for string and array.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes any value of this type can take on disk (used to bound counts).
    var minimumEncodedSize: Int {
        switch self {
        case .string: return 8          // length
        case .array: return 4 + 8       // element type + count
        default: return fixedSize!
        }
    }
}

/// One GGUF metadata value. Arrays carry their element type so that empty arrays and nested
/// arrays round-trip exactly.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// Any integer value as Int (nil for non-integers and for values Int cannot hold).
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// Any float or integer value as Double.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements of an array, whatever their type.
    public var arrayElements: [GGUFValue]? {
        if case .array(_, let elements) = self { return elements }
        return nil
    }

    /// An array whose elements are all strings.
    public var stringArray: [String]? {
        guard case .array(.string, let elements) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard case .string(let s) = e else { return nil }
            out.append(s)
        }
        return out
    }

    /// An array whose elements are all integers.
    public var intArray: [Int]? {
        guard case .array(let t, let elements) = self, t != .string, t != .array, t != .bool,
              t != .float32, t != .float64 else { return nil }
        var out: [Int] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let v = e.int else { return nil }
            out.append(v)
        }
        return out
    }

    /// An array whose elements are all floats (float32 or float64).
    public var floatArray: [Double]? {
        guard case .array(let t, let elements) = self, t == .float32 || t == .float64 else { return nil }
        var out: [Double] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let v = e.double else { return nil }
            out.append(v)
        }
        return out
    }
}
