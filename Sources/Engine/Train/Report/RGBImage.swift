/// An 8-bit RGB raster, rows top to bottom, three bytes a pixel.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public struct Color: Equatable, Sendable {
        public var r: UInt8, g: UInt8, b: UInt8
        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
        /// "#RRGGBB".
        public init?(hex: String) {
            guard hex.count == 7, hex.first == "#", let v = UInt32(hex.dropFirst(), radix: 16) else { return nil }
            self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
        }
        public static let white = Color(255, 255, 255)
        public static let black = Color(0, 0, 0)
    }

    public init(width: Int, height: Int, background: Color = .white) {
        self.width = max(0, width)
        self.height = max(0, height)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = background.r; pixels[i + 1] = background.g; pixels[i + 2] = background.b
        }
    }

    public subscript(x: Int, y: Int) -> Color {
        get {
            let i = (y * width + x) * 3
            return Color(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = (y * width + x) * 3
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
        }
    }

    /// Fills the part of the rectangle that lies inside the image.
    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: Color) {
        let x0 = max(0, x), x1 = min(width, x &+ w), y0 = max(0, y), y1 = min(height, y &+ h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 {
            for xx in x0..<x1 { self[xx, yy] = color }
        }
    }

    /// A line `thickness` pixels wide (a square brush along Bresenham's path).
    mutating func line(from p: (x: Int, y: Int), to q: (x: Int, y: Int), _ color: Color, thickness: Int = 1) {
        var x = p.x, y = p.y
        let dx = abs(q.x - p.x), dy = -abs(q.y - p.y)
        let sx = p.x < q.x ? 1 : -1, sy = p.y < q.y ? 1 : -1
        var err = dx + dy
        let half = (thickness - 1) / 2
        while true {
            fill(x: x - half, y: y - half, width: thickness, height: thickness, color)
            if x == q.x && y == q.y { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    mutating func disc(centerX cx: Int, centerY cy: Int, radius r: Int, _ color: Color) {
        for yy in -r...r { for xx in -r...r where xx * xx + yy * yy <= r * r { self[cx + xx, cy + yy] = color } }
    }
}
