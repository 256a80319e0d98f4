/*
 * Unit tests for src/content/image.c. The images are built here: a PNG
 * (zlib-compressed pixels, real CRCs) with text, EXIF and time chunks; a
 * baseline JPEG (16x8 grey, Huffman tables with one code each) carrying
 * EXIF with GPS, XMP, IPTC, a comment, an ICC profile and an Adobe
 * segment; WebP files (lossless and lossy, simple and extended with EXIF
 * and XMP chunks); a GIF (hand-packed LZW) with a loop extension, a
 * comment and XMP. Checked: sniffing (HTML or SVG named .jpg is not an
 * image), dimensions, stripping (no metadata or GPS bytes left, kept
 * segments byte for byte, the copy parses with the same size), and that
 * truncated, corrupt and oversized files are refused.
 */
#include "../../src/content/image.h"
#include "t.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#define GPS_BYTES "GPSLatitude 35.6812N GPSLongitude 139.7671E"

/* Where needle occurs in b, or NULL. */
static const void *
find(const buf *b, const void *needle, size_t n)
{
	return b->len ? memmem(b->ptr, b->len, needle, n) : NULL;
}

static bool
has(const buf *b, const char *s)
{
	return find(b, s, strlen(s)) != NULL;
}

static void
be16(buf *b, unsigned v)
{
	unsigned char c[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	buf_put(b, c, 2);
}

static void
be32(buf *b, uint32_t v)
{
	unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v};
	buf_put(b, c, 4);
}

static void
le16(buf *b, unsigned v)
{
	unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	buf_put(b, c, 2);
}

static void
le32(buf *b, uint32_t v)
{
	unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
		(unsigned char)(v >> 16), (unsigned char)(v >> 24)};
	buf_put(b, c, 4);
}

/* ---- builders ---------------------------------------------------------------- */

static void
png_chunk(buf *b, const char *type, const void *d, size_t n)
{
	uLong crc = crc32(0, (const Bytef *)type, 4);
	if (n > 0)
		crc = crc32(crc, d, (uInt)n);
	be32(b, (uint32_t)n);
	buf_put(b, type, 4);
	buf_put(b, d, n);
	be32(b, (uint32_t)crc);
}

/* A w x h RGB PNG; with meta, tEXt/zTXt/iTXt/eXIf/tIME chunks around the
 * pixels, and always a pHYs chunk that must survive. */
static void
make_png(buf *b, unsigned w, unsigned h, bool meta)
{
	unsigned char ihdr[13], raw[4096], z[4096];
	uLongf zn = sizeof(z);
	size_t rn = 0;
	static const unsigned char phys[9] = {0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1};
	static const char text[] = "Comment\0" GPS_BYTES;
	static const char exif[] = "MM\0*\0\0\0\x08" GPS_BYTES;
	static const char itxt[] = "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>" GPS_BYTES "</x:xmpmeta>";
	static const unsigned char time[7] = {0x07, 0xE6, 1, 9, 13, 5, 0};

	buf_put(b, "\x89PNG\r\n\x1a\n", 8);
	memset(ihdr, 0, sizeof(ihdr));
	ihdr[0] = (unsigned char)(w >> 24);
	ihdr[1] = (unsigned char)(w >> 16);
	ihdr[2] = (unsigned char)(w >> 8);
	ihdr[3] = (unsigned char)w;
	ihdr[4] = (unsigned char)(h >> 24);
	ihdr[5] = (unsigned char)(h >> 16);
	ihdr[6] = (unsigned char)(h >> 8);
	ihdr[7] = (unsigned char)h;
	ihdr[8] = 8; /* bit depth */
	ihdr[9] = 2; /* RGB */
	png_chunk(b, "IHDR", ihdr, 13);
	png_chunk(b, "pHYs", phys, sizeof(phys));
	if (meta) {
		png_chunk(b, "tEXt", text, sizeof(text) - 1);
		png_chunk(b, "eXIf", exif, sizeof(exif) - 1);
		png_chunk(b, "iTXt", itxt, sizeof(itxt) - 1);
		png_chunk(b, "tIME", time, sizeof(time));
	}
	for (unsigned y = 0; y < h && rn + 1 + 3 * w <= sizeof(raw); y++) {
		raw[rn++] = 0; /* filter: none */
		for (unsigned x = 0; x < w; x++) {
			raw[rn++] = (unsigned char)(x * 40);
			raw[rn++] = (unsigned char)(y * 80);
			raw[rn++] = 0x80;
		}
	}
	compress2(z, &zn, raw, rn, 9);
	png_chunk(b, "IDAT", z, zn);
	if (meta) {
		unsigned char ztxt[64] = "Comment\0\0";
		uLongf n = sizeof(ztxt) - 9;
		compress2(ztxt + 9, &n, (const Bytef *)GPS_BYTES, strlen(GPS_BYTES), 9);
		png_chunk(b, "zTXt", ztxt, 9 + n);
	}
	png_chunk(b, "IEND", NULL, 0);
}

static void
jpeg_seg(buf *b, unsigned marker, const void *d, size_t n)
{
	be16(b, 0xFF00 | marker);
	be16(b, (unsigned)n + 2);
	buf_put(b, d, n);
}

#define JPEG_ICC "ICC_PROFILE\0\x01\x01" "fake-icc-profile"
#define JPEG_ADOBE "Adobe\0\x64\0\0\0\0\x01"

/*
 * A baseline JPEG, 16 wide and 8 high, one grey component: DQT of ones,
 * Huffman tables with a single 1-bit code (DC category 0, AC EOB), so the
 * scan is two blocks of "0" "0" bits padded with ones: 0x0F. With meta,
 * every kind of metadata segment; the ICC and Adobe segments are there
 * either way.
 */
static void
make_jpeg(buf *b, bool meta)
{
	static const unsigned char jfif[14] = {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
	static const char exif[] = "Exif\0\0MM\0*\0\0\0\x08" GPS_BYTES;
	static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" GPS_BYTES "</x:xmpmeta>";
	static const char iptc[] = "Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x10" GPS_BYTES;
	static const char com[] = "shot at " GPS_BYTES;
	static const char app12[] = "Ducky\0" GPS_BYTES;
	static const unsigned char sof[9] = {8, 0, 8, 0, 16, 1, 1, 0x11, 0};
	static const unsigned char dht_dc[18] = {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00};
	static const unsigned char dht_ac[18] = {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00};
	static const unsigned char sos[6] = {1, 1, 0x00, 0, 63, 0};
	unsigned char dqt[65];

	buf_put(b, "\xFF\xD8", 2);
	jpeg_seg(b, 0xE0, jfif, sizeof(jfif));
	if (meta) {
		jpeg_seg(b, 0xE1, exif, sizeof(exif) - 1);
		jpeg_seg(b, 0xE1, xmp, sizeof(xmp) - 1);
		jpeg_seg(b, 0xED, iptc, sizeof(iptc) - 1);
		jpeg_seg(b, 0xEC, app12, sizeof(app12) - 1);
		jpeg_seg(b, 0xFE, com, sizeof(com) - 1);
	}
	jpeg_seg(b, 0xE2, JPEG_ICC, sizeof(JPEG_ICC) - 1);
	jpeg_seg(b, 0xEE, JPEG_ADOBE, sizeof(JPEG_ADOBE) - 1);
	memset(dqt, 1, sizeof(dqt));
	dqt[0] = 0;
	jpeg_seg(b, 0xDB, dqt, sizeof(dqt));
	jpeg_seg(b, 0xC0, sof, sizeof(sof));
	jpeg_seg(b, 0xC4, dht_dc, sizeof(dht_dc));
	jpeg_seg(b, 0xC4, dht_ac, sizeof(dht_ac));
	jpeg_seg(b, 0xDA, sos, sizeof(sos));
	buf_putc(b, 0x0F);
	buf_put(b, "\xFF\xD9", 2);
}

/* The 1x1 lossless VP8L bitstream libwebp's feature tests use. */
static const unsigned char vp8l_1x1[13] = {0x2F, 0, 0, 0, 0x10, 0x07, 0x10,
	0x11, 0x11, 0x88, 0x88, 0xFE, 0x07};
/* A 1x1 lossy VP8 key frame. */
static const unsigned char vp8_1x1[22] = {0x30, 0x01, 0, 0x9D, 0x01, 0x2A,
	0x01, 0, 0x01, 0, 0x0E, 0xC0, 0xFE, 0x25, 0xA4, 0, 0x03, 0x70, 0, 0,
	0, 0};

static void
webp_chunk(buf *b, const char *cc, const void *d, size_t n)
{
	buf_put(b, cc, 4);
	le32(b, (uint32_t)n);
	buf_put(b, d, n);
	if (n & 1)
		buf_putc(b, 0);
}

/* Writes the RIFF size of the WebP that starts at b->ptr[at]. */
static void
webp_fix(buf *b, size_t at)
{
	uint32_t n = (uint32_t)(b->len - at - 8);
	unsigned char *p = (unsigned char *)b->ptr + at + 4;
	p[0] = (unsigned char)n;
	p[1] = (unsigned char)(n >> 8);
	p[2] = (unsigned char)(n >> 16);
	p[3] = (unsigned char)(n >> 24);
}

/* Simple (one VP8 or VP8L chunk) or extended: VP8X with the EXIF and XMP
 * flags, the VP8L image, an EXIF chunk (odd length: padded) and XMP. */
static void
make_webp(buf *b, bool lossy, bool meta)
{
	static const char exif[] = "Exif\0\0MM\0*\0\0\0\x08" GPS_BYTES "!";
	static const char xmp[] = "<x:xmpmeta>" GPS_BYTES "</x:xmpmeta>";
	size_t at = b->len;

	buf_put(b, "RIFF\0\0\0\0WEBP", 12);
	if (meta) {
		unsigned char x[10] = {0x08 | 0x04 | 0x10};
		webp_chunk(b, "VP8X", x, sizeof(x));
	}
	if (lossy)
		webp_chunk(b, "VP8 ", vp8_1x1, sizeof(vp8_1x1));
	else
		webp_chunk(b, "VP8L", vp8l_1x1, sizeof(vp8l_1x1));
	if (meta) {
		webp_chunk(b, "EXIF", exif, sizeof(exif) - 1);
		webp_chunk(b, "XMP ", xmp, sizeof(xmp) - 1);
	}
	webp_fix(b, at);
}

/* LZW codes of bits each, packed least significant bit first. */
static size_t
lzw_pack(unsigned char *out, const unsigned *codes, size_t n, unsigned bits)
{
	uint32_t acc = 0;
	unsigned nb = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		acc |= (uint32_t)codes[i] << nb;
		nb += bits;
		while (nb >= 8) {
			out[k++] = (unsigned char)acc;
			acc >>= 8;
			nb -= 8;
		}
	}
	if (nb > 0)
		out[k++] = (unsigned char)acc;
	return k;
}

/*
 * A 3x2 GIF89a, two colours, every pixel colour 0: LZW minimum code size
 * 2, and a clear code before every second pixel so the codes stay 3 bits
 * wide. With meta: a comment and an XMP application extension. The
 * NETSCAPE2.0 loop extension and a graphic control extension are always
 * there.
 */
static void
make_gif(buf *b, bool meta)
{
	static const unsigned codes[] = {4, 0, 0, 4, 0, 0, 4, 0, 0, 5};
	static const char xmp[] = "<x:xmpmeta>" GPS_BYTES "</x:xmpmeta>";
	unsigned char lzw[16];
	size_t n = lzw_pack(lzw, codes, sizeof(codes) / sizeof(codes[0]), 3);

	buf_put(b, "GIF89a", 6);
	le16(b, 3);
	le16(b, 2);
	buf_put(b, "\x80\x00\x00", 3);          /* 2-entry global table */
	buf_put(b, "\x00\x00\x00\xFF\xFF\xFF", 6); /* black, white */
	buf_put(b, "\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
	if (meta) {
		buf_put(b, "\x21\xFE", 2);
		buf_putc(b, (char)strlen(GPS_BYTES));
		buf_puts(b, GPS_BYTES);
		buf_putc(b, 0);
		buf_put(b, "\x21\xFF\x0BXMP DataXMP", 14);
		buf_putc(b, (char)(sizeof(xmp) - 1));
		buf_put(b, xmp, sizeof(xmp) - 1);
		buf_putc(b, 0);
	}
	buf_put(b, "\x21\xF9\x04\x00\x00\x00\x00\x00", 8);
	buf_put(b, "\x2C\x00\x00\x00\x00\x03\x00\x02\x00\x00", 10);
	buf_putc(b, 2); /* LZW minimum code size */
	buf_putc(b, (char)n);
	buf_put(b, lzw, n);
	buf_putc(b, 0);
	buf_putc(b, 0x3B);
}

/* ---- helpers ------------------------------------------------------------------ */

/* info of b is ok with type t and size w x h. */
static bool
info_is(const buf *b, enum image_type t, unsigned w, unsigned h)
{
	enum image_type tt;
	unsigned ww, hh;
	bool ok = content_image_info(b->ptr, b->len, &tt, &ww, &hh);
	if (!ok || tt != t || ww != w || hh != h)
		printf("  info: ok %d type %d %ux%u, want type %d %ux%u\n", ok, tt,
		    ww, hh, t, w, h);
	return ok && tt == t && ww == w && hh == h;
}

/* Refused by info and strip, strip appending nothing. */
static bool
refused(const void *p, size_t n)
{
	buf o;
	bool ok;
	buf_init(&o, 0);
	buf_puts(&o, "x");
	ok = !content_image_info(p, n, NULL, NULL, NULL) &&
	    !content_image_strip(&o, p, n) && o.len == 1;
	buf_free(&o);
	return ok;
}

/* Every proper prefix of b is refused. */
static bool
prefixes_refused(const buf *b)
{
	for (size_t n = 0; n < b->len; n++)
		if (!refused(b->ptr, n)) {
			printf("  prefix of %zu bytes accepted\n", n);
			return false;
		}
	return true;
}

/* Strips b into out and checks the copy: same type and size, strip of
 * the copy changes nothing. */
static bool
strip_ok(const buf *b, buf *out, enum image_type t, unsigned w, unsigned h)
{
	buf again;
	bool ok;

	buf_reset(out);
	if (!content_image_strip(out, b->ptr, b->len))
		return false;
	buf_init(&again, 0);
	ok = content_image_sniff(out->ptr, out->len) == t &&
	    info_is(out, t, w, h) && content_image_strip(&again, out->ptr, out->len) &&
	    again.len == out->len && memcmp(again.ptr, out->ptr, out->len) == 0;
	buf_free(&again);
	return ok;
}

/* ---- tests -------------------------------------------------------------------- */

static void
test_sniff(void)
{
	static const char *const not_images[] = {
		"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
		"<html><img src=x onerror=alert(1)>",
		"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" "
		"onload=\"alert(1)\"><circle r=\"1\"/></svg>",
		"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
		"\xEF\xBB\xBF<svg></svg>", "just some text", "%PDF-1.7",
		"RIFF\x10\0\0\0WAVEfmt ", "GIF8", "\xFF\xD8", "\x89PNG\r\n",
		"", NULL
	};
	buf b;

	for (int i = 0; not_images[i]; i++) {
		const char *s = not_images[i];
		enum image_type t = IMAGE_JPEG;
		T_CHECK(content_image_sniff(s, strlen(s)) == IMAGE_NONE);
		T_CHECK(!content_image_info(s, strlen(s), &t, NULL, NULL));
		T_CHECK(t == IMAGE_NONE);
		T_CHECK(refused(s, strlen(s)));
	}
	buf_init(&b, 0);
	make_png(&b, 3, 2, false);
	T_CHECK(content_image_sniff(b.ptr, b.len) == IMAGE_PNG);
	buf_reset(&b);
	make_jpeg(&b, false);
	T_CHECK(content_image_sniff(b.ptr, b.len) == IMAGE_JPEG);
	buf_reset(&b);
	make_webp(&b, false, false);
	T_CHECK(content_image_sniff(b.ptr, b.len) == IMAGE_WEBP);
	buf_reset(&b);
	make_gif(&b, false);
	T_CHECK(content_image_sniff(b.ptr, b.len) == IMAGE_GIF);
	T_CHECK(content_image_sniff("GIF87a", 6) == IMAGE_GIF);
	buf_free(&b);
	T_STREQ(content_image_mime(IMAGE_WEBP), "image/webp");
	T_STREQ(content_image_ext(IMAGE_JPEG), "jpg");
	T_CHECK(content_image_mime(IMAGE_NONE) == NULL);
}

static void
test_png(void)
{
	buf b, o;

	buf_init(&b, 0);
	buf_init(&o, 0);
	make_png(&b, 300, 7, true);
	T_CHECK(info_is(&b, IMAGE_PNG, 300, 7));
	T_CHECK(has(&b, "GPSLatitude") && has(&b, "tEXt") && has(&b, "tIME"));
	T_CHECK(strip_ok(&b, &o, IMAGE_PNG, 300, 7));
	T_CHECK(!has(&o, "GPS") && !has(&o, "tEXt") && !has(&o, "zTXt") &&
	    !has(&o, "iTXt") && !has(&o, "eXIf") && !has(&o, "tIME"));
	/* what stays is byte for byte the unstripped image */
	buf plain;
	buf_init(&plain, 0);
	make_png(&plain, 300, 7, false);
	T_CHECK(o.len == plain.len && memcmp(o.ptr, plain.ptr, o.len) == 0);
	T_CHECK(prefixes_refused(&b));
	/* trailing bytes (a polyglot) are not copied */
	buf_puts(&b, "<script>alert(1)</script>");
	T_CHECK(strip_ok(&b, &o, IMAGE_PNG, 300, 7));
	T_CHECK(!has(&o, "<script"));
	buf_free(&plain);

	/* corruptions */
	buf_reset(&b);
	make_png(&b, 3, 2, false);
	b.ptr[30] ^= 1; /* IHDR's CRC */
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_png(&b, 3, 2, false);
	b.ptr[24] = 3; /* bit depth 8 → 3 */
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_png(&b, 0, 2, false);
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_png(&b, 70000, 1, false);
	T_CHECK(refused(b.ptr, b.len));
	/* no IHDR first; no IDAT; a chunk length past the end */
	buf_reset(&b);
	buf_put(&b, "\x89PNG\r\n\x1a\n", 8);
	png_chunk(&b, "IEND", NULL, 0);
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	{
		unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0};
		buf_put(&b, "\x89PNG\r\n\x1a\n", 8);
		png_chunk(&b, "IHDR", ihdr, 13);
		png_chunk(&b, "IEND", NULL, 0);
		T_CHECK(refused(b.ptr, b.len));
		buf_reset(&b);
		buf_put(&b, "\x89PNG\r\n\x1a\n", 8);
		png_chunk(&b, "IHDR", ihdr, 13);
		be32(&b, 0x7FFFFFF0);
		buf_puts(&b, "IDAT....");
		T_CHECK(refused(b.ptr, b.len));
	}
	buf_free(&b);
	buf_free(&o);
}

static void
test_jpeg(void)
{
	buf b, o;

	buf_init(&b, 0);
	buf_init(&o, 0);
	make_jpeg(&b, true);
	T_CHECK(info_is(&b, IMAGE_JPEG, 16, 8));
	T_CHECK(has(&b, "GPSLatitude") && has(&b, "Exif") && has(&b, "Photoshop"));
	T_CHECK(strip_ok(&b, &o, IMAGE_JPEG, 16, 8));
	T_CHECK(!has(&o, "GPS") && !has(&o, "Exif") && !has(&o, "xap") &&
	    !has(&o, "Photoshop") && !has(&o, "Ducky") && !has(&o, "shot at"));
	T_CHECK(!find(&o, "\xFF\xE1", 2) && !find(&o, "\xFF\xED", 2) &&
	    !find(&o, "\xFF\xFE", 2) && !find(&o, "\xFF\xEC", 2));
	/* JFIF, ICC and Adobe stay; the scan is intact */
	T_CHECK(has(&o, "JFIF") && has(&o, "ICC_PROFILE") && has(&o, "Adobe"));
	T_CHECK(find(&o, "\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x0F\xFF\xD9", 13) != NULL);
	/* the copy is exactly the file built without metadata */
	buf plain;
	buf_init(&plain, 0);
	make_jpeg(&plain, false);
	T_CHECK(o.len == plain.len && memcmp(o.ptr, plain.ptr, o.len) == 0);
	buf_free(&plain);
	T_CHECK(prefixes_refused(&b));

	/* a JFIF thumbnail (an old, uncropped view) is cleared */
	buf_reset(&b);
	buf_put(&b, "\xFF\xD8", 2);
	jpeg_seg(&b, 0xE0, "JFIF\0\x01\x02\0\0\x01\0\x01\x01\x01" "RGB", 17);
	{
		buf tail;
		buf_init(&tail, 0);
		make_jpeg(&tail, false);
		buf_put(&b, tail.ptr + 20, tail.len - 20); /* after its APP0 */
		buf_free(&tail);
	}
	T_CHECK(strip_ok(&b, &o, IMAGE_JPEG, 16, 8));
	T_CHECK(find(&o, "\xFF\xE0\x00\x10JFIF\0\x01\x02\0\0\x01\0\x01\0\0", 18) != NULL);
	T_CHECK(!has(&o, "RGB"));

	/* stuffed bytes, restart markers and fill bytes in a scan are
	 * copied as they are; bytes after EOI are dropped */
	buf_reset(&b);
	make_jpeg(&b, false);
	b.len -= 3; /* the scan byte and EOI */
	buf_put(&b, "\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xFF\xD9<html>", 16);
	T_CHECK(strip_ok(&b, &o, IMAGE_JPEG, 16, 8));
	T_CHECK(find(&o, "\x12\xFF\x00\x34\xFF\xD0\x56", 7) != NULL);
	T_CHECK(!has(&o, "<html>"));
	T_CHECK(memcmp(o.ptr + o.len - 2, "\xFF\xD9", 2) == 0);

	/* scan before the frame header; height 0 (DNL); a length past the
	 * end; no EOI */
	buf_reset(&b);
	buf_put(&b, "\xFF\xD8\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x0F\xFF\xD9", 15);
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_jpeg(&b, false);
	{
		unsigned char *sof = memmem(b.ptr, b.len, "\xFF\xC0", 2);
		T_CHECK(sof != NULL);
		if (sof) {
			sof[5] = sof[6] = 0;
			T_CHECK(refused(b.ptr, b.len));
			sof[6] = 8;
			sof[3] = 0xFF; /* segment length */
			T_CHECK(refused(b.ptr, b.len));
		}
	}
	buf_reset(&b);
	make_jpeg(&b, false);
	b.len -= 2;
	T_CHECK(refused(b.ptr, b.len));
	buf_free(&b);
	buf_free(&o);
}

static void
test_webp(void)
{
	buf b, o;

	buf_init(&b, 0);
	buf_init(&o, 0);
	make_webp(&b, false, false);
	T_CHECK(b.len == 34);
	T_CHECK(info_is(&b, IMAGE_WEBP, 1, 1));
	T_CHECK(strip_ok(&b, &o, IMAGE_WEBP, 1, 1));
	T_CHECK(o.len == b.len && memcmp(o.ptr, b.ptr, b.len) == 0);
	buf_reset(&b);
	make_webp(&b, true, false);
	T_CHECK(info_is(&b, IMAGE_WEBP, 1, 1));

	/* extended with EXIF and XMP: chunks gone, flags cleared, RIFF size
	 * right */
	buf_reset(&b);
	make_webp(&b, false, true);
	T_CHECK(info_is(&b, IMAGE_WEBP, 1, 1));
	T_CHECK(has(&b, "GPSLatitude"));
	T_CHECK(strip_ok(&b, &o, IMAGE_WEBP, 1, 1));
	T_CHECK(!has(&o, "GPS") && !has(&o, "EXIF") && !has(&o, "XMP "));
	T_CHECK(o.len == 12 + 18 + 22);
	T_CHECK((unsigned char)o.ptr[4] == o.len - 8 && o.ptr[5] == 0);
	T_CHECK(memcmp(o.ptr + 12, "VP8X", 4) == 0 && (unsigned char)o.ptr[20] == 0x10);
	T_CHECK(prefixes_refused(&b));
	/* trailing bytes past the RIFF size are dropped */
	buf_puts(&b, "<svg onload=alert(1)>");
	T_CHECK(strip_ok(&b, &o, IMAGE_WEBP, 1, 1));
	T_CHECK(!has(&o, "<svg"));

	/* corruptions: RIFF size past the end, a chunk past the RIFF size,
	 * VP8X without an image, a VP8 frame that is not a key frame */
	buf_reset(&b);
	make_webp(&b, false, false);
	b.ptr[4] = 0x7F;
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_webp(&b, false, false);
	b.ptr[16] = 0x20;
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	buf_put(&b, "RIFF\0\0\0\0WEBP", 12);
	webp_chunk(&b, "VP8X", "\0\0\0\0\0\0\0\0\0\0", 10);
	webp_fix(&b, 0);
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_webp(&b, true, false);
	b.ptr[20] |= 1;
	T_CHECK(refused(b.ptr, b.len));
	buf_free(&b);
	buf_free(&o);
}

static void
test_gif(void)
{
	buf b, o;

	buf_init(&b, 0);
	buf_init(&o, 0);
	make_gif(&b, true);
	T_CHECK(info_is(&b, IMAGE_GIF, 3, 2));
	T_CHECK(has(&b, "GPSLatitude") && has(&b, "XMP DataXMP"));
	T_CHECK(strip_ok(&b, &o, IMAGE_GIF, 3, 2));
	T_CHECK(!has(&o, "GPS") && !has(&o, "XMP"));
	T_CHECK(has(&o, "NETSCAPE2.0"));
	buf plain;
	buf_init(&plain, 0);
	make_gif(&plain, false);
	T_CHECK(o.len == plain.len && memcmp(o.ptr, plain.ptr, o.len) == 0);
	buf_free(&plain);
	T_CHECK(prefixes_refused(&b));
	buf_puts(&b, "<html>");
	T_CHECK(strip_ok(&b, &o, IMAGE_GIF, 3, 2));
	T_CHECK(!has(&o, "<html>"));

	/* no image; width 0; an unknown block; LZW code size 12 */
	buf_reset(&b);
	buf_put(&b, "GIF89a\x03\x00\x02\x00\x00\x00\x00\x3B", 14);
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_gif(&b, false);
	b.ptr[6] = 0;
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_gif(&b, false);
	b.ptr[b.len - 1] = 0x42;
	T_CHECK(refused(b.ptr, b.len));
	buf_reset(&b);
	make_gif(&b, false);
	{
		unsigned char *d = memmem(b.ptr, b.len, "\x2C\x00\x00\x00\x00\x03\x00\x02\x00\x00", 10);
		T_CHECK(d != NULL);
		if (d) {
			d[10] = 12;
			T_CHECK(refused(b.ptr, b.len));
		}
	}
	buf_free(&b);
	buf_free(&o);
}

/* A failed strip leaves out as it was; a full out is a failure. */
static void
test_strip_out(void)
{
	buf b, o;

	buf_init(&b, 0);
	make_png(&b, 3, 2, true);
	buf_init(&o, 40);
	buf_puts(&o, "keep");
	T_CHECK(!content_image_strip(&o, b.ptr, b.len));
	T_CHECK(o.len == 4 && memcmp(o.ptr, "keep", 4) == 0);
	buf_free(&o);
	buf_init(&o, 0);
	buf_puts(&o, "keep");
	T_CHECK(content_image_strip(&o, b.ptr, b.len));
	T_CHECK(memcmp(o.ptr, "keep\x89PNG", 8) == 0);
	buf_free(&o);
	buf_free(&b);
}

static void
test_name(void)
{
	arena *a = arena_new(0);
	buf b;

	/* SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a3… */
	T_STREQ(content_image_name(a, "abc", 3, IMAGE_PNG),
	    "ba7816bf8f01cfea414140de5dae2223.png");
	T_STREQ(content_image_name(a, "abc", 3, IMAGE_JPEG),
	    "ba7816bf8f01cfea414140de5dae2223.jpg");
	T_CHECK(content_image_name(a, "abc", 3, IMAGE_NONE) == NULL);
	/* the stripped copies of two files differing only in metadata share
	 * a name */
	buf_init(&b, 0);
	buf x, y;
	buf_init(&x, 0);
	buf_init(&y, 0);
	make_jpeg(&b, true);
	T_CHECK(content_image_strip(&x, b.ptr, b.len));
	buf_reset(&b);
	make_jpeg(&b, false);
	T_CHECK(content_image_strip(&y, b.ptr, b.len));
	T_STREQ(content_image_name(a, x.ptr, x.len, IMAGE_JPEG),
	    content_image_name(a, y.ptr, y.len, IMAGE_JPEG));
	buf_free(&x);
	buf_free(&y);
	buf_free(&b);
	arena_free(a);
}

int
main(void)
{
	T_RUN(test_sniff);
	T_RUN(test_png);
	T_RUN(test_jpeg);
	T_RUN(test_webp);
	T_RUN(test_gif);
	T_RUN(test_strip_out);
	T_RUN(test_name);
	T_DONE();
}
