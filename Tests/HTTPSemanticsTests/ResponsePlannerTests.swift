import Testing
@testable import HTTPSemantics

@Suite struct ResponsePlannerTests {
    static let modified: Int64 = 784_111_777  // Sun, 06 Nov 1994 08:49:37 GMT
    static let representation = Representation(length: 1000, lastModified: modified, etag: EntityTag(opaque: "abc"),
                                               contentType: "video/mp2t", cacheControl: "public, max-age=10")

    static func plan(_ request: ConditionalRequest, head: Bool = false) -> ResponsePlan {
        ResponsePlanner.plan(isHead: head, request: request, representation: representation, boundary: "BOUNDARY")
    }

    @Test func wholeFile() {
        let plan = Self.plan(ConditionalRequest())
        #expect(plan.status == 200)
        #expect(plan.body == .file(0..<1000))
        #expect(plan.value("ETag") == "\"abc\"")
        #expect(plan.value("Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(plan.value("Accept-Ranges") == "bytes")
        #expect(plan.value("Content-Type") == "video/mp2t")
        let head = Self.plan(ConditionalRequest(), head: true)
        #expect(head.status == 200 && !head.sendsBody && head.contentLength == 1000)
    }

    @Test func singleRange() {
        let plan = Self.plan(ConditionalRequest(range: "bytes=-100"))
        #expect(plan.status == 206)
        #expect(plan.body == .file(900..<1000))
        #expect(plan.value("Content-Range") == "bytes 900-999/1000")
        #expect(plan.value("ETag") == "\"abc\"" && plan.value("Cache-Control") != nil, "206 carries what 200 would (§15.3.7)")
    }

    @Test func headIgnoresRange() {
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1"), head: true).status == 200)
    }

    @Test func multipleRangesAreMultipart() {
        let plan = Self.plan(ConditionalRequest(range: "bytes=0-9,500-509"))
        #expect(plan.status == 206)
        #expect(plan.value("Content-Type") == "multipart/byteranges; boundary=BOUNDARY")
        #expect(plan.value("Content-Range") == nil, "no top-level Content-Range on multipart (§15.3.7.2)")
        guard case .multipart(let parts, let closing) = plan.body else { Issue.record("not multipart"); return }
        #expect(parts.map(\.range) == [0..<10, 500..<510])
        #expect(parts[1].head == "\r\n--BOUNDARY\r\nContent-Type: video/mp2t\r\nContent-Range: bytes 500-509/1000\r\n\r\n")
        #expect(closing == "\r\n--BOUNDARY--\r\n")
        #expect(plan.contentLength == UInt64(parts[0].head.utf8.count + parts[1].head.utf8.count + 20 + closing.utf8.count))
    }

    @Test func unsatisfiableIs416WithTheLength() {
        let plan = Self.plan(ConditionalRequest(range: "bytes=1000-"))
        #expect(plan.status == 416)
        #expect(plan.value("Content-Range") == "bytes */1000")
    }

    @Test func invalidRangeIsIgnored() {
        #expect(Self.plan(ConditionalRequest(range: "bytes=9-1")).status == 200)
        #expect(Self.plan(ConditionalRequest(range: "lines=1-2")).status == 200)
    }

    @Test func preconditionsInRFCOrder() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT", earlier = "Sat, 05 Nov 1994 08:49:37 GMT"
        #expect(Self.plan(ConditionalRequest(ifMatch: "\"xyz\"")).status == 412)
        #expect(Self.plan(ConditionalRequest(ifMatch: "W/\"abc\"")).status == 412, "If-Match compares strongly")
        #expect(Self.plan(ConditionalRequest(ifMatch: "\"x\", \"abc\"")).status == 200)
        #expect(Self.plan(ConditionalRequest(ifMatch: "*")).status == 200)
        #expect(Self.plan(ConditionalRequest(ifUnmodifiedSince: earlier)).status == 412)
        #expect(Self.plan(ConditionalRequest(ifMatch: "\"abc\"", ifUnmodifiedSince: earlier)).status == 200, "IUS ignored with If-Match")
        #expect(Self.plan(ConditionalRequest(ifUnmodifiedSince: "garbage")).status == 200, "invalid date ignored")
        #expect(Self.plan(ConditionalRequest(ifNoneMatch: "W/\"abc\"")).status == 304, "If-None-Match compares weakly")
        #expect(Self.plan(ConditionalRequest(ifNoneMatch: "*"), head: true).status == 304)
        #expect(Self.plan(ConditionalRequest(ifNoneMatch: "\"other\"", ifModifiedSince: date)).status == 200, "IMS ignored with INM")
        #expect(Self.plan(ConditionalRequest(ifModifiedSince: date)).status == 304)
        #expect(Self.plan(ConditionalRequest(ifModifiedSince: earlier)).status == 200)
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifNoneMatch: "\"abc\"")).status == 304, "304 wins over Range")
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifMatch: "\"nope\"")).status == 412, "412 wins over Range")
        let notModified = Self.plan(ConditionalRequest(ifNoneMatch: "\"abc\""))
        #expect(notModified.value("ETag") == "\"abc\"" && notModified.value("Cache-Control") != nil, "§15.4.5")
        #expect(notModified.body == .empty)
    }

    @Test func ifRange() {
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifRange: "\"abc\"")).status == 206)
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifRange: "\"old\"")).status == 200)
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifRange: "W/\"abc\"")).status == 200, "weak never matches")
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifRange: "Sun, 06 Nov 1994 08:49:37 GMT")).status == 206)
        #expect(Self.plan(ConditionalRequest(range: "bytes=0-1", ifRange: "Sun, 06 Nov 1994 08:49:38 GMT")).status == 200)
        #expect(Self.plan(ConditionalRequest(ifRange: "\"old\"")).status == 200, "If-Range without Range is ignored")
    }

    @Test func entityTagLists() {
        #expect(EntityTag.parseList(" \"a\" , W/\"b\"") == .tags([EntityTag(opaque: "a"), EntityTag(opaque: "b", weak: true)]))
        #expect(EntityTag.parseList("a") == .malformed)
        #expect(EntityTag.parseList("\"a") == .malformed)
        #expect(EntityTag.parseList("\"a\" \"b\"") == .malformed)
    }

    @Test func httpDatesInAllThreeFormats() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == Self.modified)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == Self.modified)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == Self.modified)
        #expect(HTTPDate.format(Self.modified) == "Sun, 06 Nov 1994 08:49:37 GMT")
        for bad in ["", "yesterday", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"] {
            #expect(HTTPDate.parse(Substring(bad)) == nil, "\(bad)")
        }
    }
}

@Suite struct RequestPathTests {
    @Test func acceptsOrdinaryPaths() {
        #expect(RequestPath.components(of: "/song/720p/seg_00001.ts") == ["song", "720p", "seg_00001.ts"])
        #expect(RequestPath.components(of: "/song//master.m3u8?x=1#y") == ["song", "master.m3u8"])
        #expect(RequestPath.components(of: "/a%20b/c") == ["a b", "c"])
        #expect(RequestPath.components(of: "http://example.com/a/b") == ["a", "b"])
        #expect(RequestPath.components(of: "/") == [])
    }

    /// The hostile run after issue 24: `http://evil.example?/clip/master.m3u8` was served as `/clip/master.m3u8` by the
    /// file lookup while the router read it as the root (routing bypassed). One origin form serves both now.
    @Test func anAbsoluteFormTargetHasOneOriginForm() {
        let cases: [(String, String)] = [
            ("http://evil.example?/clip/master.m3u8", "/?/clip/master.m3u8"), ("http://evil.example#/clip", "/#/clip"),
            ("http://evil.example", "/"), ("HTTP://EVIL.EXAMPLE/clip/master.m3u8", "/clip/master.m3u8"),
            ("HtTpS://a:443/x?y#z", "/x?y#z"), ("http://a@b/c", "/c"), ("/clip/master.m3u8", "/clip/master.m3u8"),
            ("//x/clip", "//x/clip"), ("httpx://a/b", "httpx://a/b"), ("", ""), ("h", "h"), ("http:/", "http:/"),
        ]
        for (target, origin) in cases {
            #expect(RequestPath.originForm(of: Substring(target)) == Substring(origin), "\(target)")
        }
        #expect(RequestPath.components(of: "http://evil.example?/clip/master.m3u8") == [])
        #expect(RequestPath.components(of: "HTTP://EVIL.EXAMPLE/clip/master.m3u8") == ["clip", "master.m3u8"])
        #expect(RequestPath.components(of: "httpx://a/b") == nil, "not origin- or absolute-form")
    }

    @Test func aPathsEndIsFoundBeforeItsQuery() {
        for (target, ends) in [("/a/steered.m3u8", true), ("/a/steered.m3u8?x=.ts", true), ("/a/steered.m3u8#f", true),
                               ("/a/steered.m3u8/x", false), ("/a/x.ts?steered.m3u8", false), ("steered.m3u8", true), ("/m3u8", false), ("", false)] {
            #expect(RequestPath.path(of: Substring(target), endsWith: "steered.m3u8") == ends, "\(target)")
        }
        #expect(RequestPath.path(of: "/song/720p/index.m3u8?t=1", endsWith: ".m3u8"))
        #expect(!RequestPath.path(of: "/song/720p/seg.ts?p=.m3u8", endsWith: ".m3u8"))
    }

    @Test func refusesEscapesAndHiddenFiles() {
        for bad in ["/../etc/passwd", "/a/../../b", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc", "/a%2fb", "/a%5cb", "/a%00b",
                    "/.hidden", "/content/.content.partial-x/seg.ts", "/%zz", "/%e2%28", "relative", "*", "/a\u{1}b",
                    "/" + String(repeating: "a", count: 5000)] {
            #expect(RequestPath.components(of: Substring(bad)) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func mediaTypesAndCachePolicy() {
        #expect(MediaType.forFile("index.m3u8") == "application/vnd.apple.mpegurl")
        #expect(MediaType.forFile("seg.ts") == "video/mp2t")
        #expect(MediaType.forFile("seg.m4s") == "video/iso.segment")
        #expect(MediaType.forFile("init.mp4") == "video/mp4")
        #expect(MediaType.forFile("manifest.json") == "application/json")
        #expect(MediaType.forFile("noext") == "application/octet-stream")
        // A republish puts new bytes under the same URLs: nothing may be `immutable`, everything revalidates.
        for name in ["seg.ts", "seg.m4s", "init.mp4", "index.m3u8", "master.m3u8", "manifest.json", "other.bin"] {
            for vod in [true, false] { #expect(!MediaType.cacheControl(forFile: name[...], isVODPlaylist: vod).contains("immutable"), "\(name)") }
        }
        #expect(MediaType.cacheControl(forFile: "seg.ts", isVODPlaylist: false) == "public, max-age=10")
        #expect(MediaType.cacheControl(forFile: "index.m3u8", isVODPlaylist: true) == "public, max-age=10")
        #expect(MediaType.cacheControl(forFile: "index.m3u8", isVODPlaylist: false) == "public, max-age=1")
        #expect(MediaType.cacheControl(forFile: "manifest.json", isVODPlaylist: false) == "public, max-age=10")
    }
}
