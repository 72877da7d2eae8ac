#include "clinres/users/import/xml_stream.hpp"

#include <expat.h>

#include <climits>
#include <cstring>

namespace clinres::import {

namespace {

// The most bytes expat may take without reporting an event: a tag (with its attributes), a comment
// or a processing instruction is held whole until it ends, while text comes in pieces. No
// spreadsheet part has markup near this size.
constexpr std::size_t max_tag_bytes = 1u << 20;

// The local part of a qualified name ("x:c" -> "c"); prefixes are not resolved, as no part needs them.
std::string_view local(const char *name)
{
    const char *sep = std::strrchr(name, ':');
    return sep ? std::string_view(sep + 1) : std::string_view(name);
}

} // namespace

const char *xml_attr(const char **attrs, std::string_view name)
{
    for (; attrs && attrs[0]; attrs += 2)
        if (local(attrs[0]) == name && std::strncmp(attrs[0], "xmlns", 5) != 0)
            return attrs[1];
    return nullptr;
}

XmlStream::XmlStream(std::string part, XmlHandler &handler, const Limits &limits)
    : part_(excerpt(part)), handler_(handler), max_depth_(limits.xml_depth)
{
    XML_Parser p = XML_ParserCreate(nullptr);
    if (!p)
        throw std::bad_alloc();
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetDefaultHandlerExpand(p, on_other);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    parser_ = p;
}

XmlStream::~XmlStream()
{
    XML_ParserFree(static_cast<XML_Parser>(parser_));
}

void XmlStream::feed(std::string_view chunk)
{
    if (chunk.size() > INT_MAX)
        throw std::length_error("XML chunk too large for expat");
    parse(chunk.data(), chunk.size(), false);
}

void XmlStream::finish()
{
    parse("", 0, true);
}

void XmlStream::fail(std::exception_ptr error)
{
    if (!error_)
        error_ = error;
    XML_StopParser(static_cast<XML_Parser>(parser_), XML_FALSE);
}

void XmlStream::parse(const char *data, std::size_t size, bool last)
{
    auto p = static_cast<XML_Parser>(parser_);
    if (error_)
        std::rethrow_exception(error_);
    XML_Status status = XML_Parse(p, data, int(size), last);
    fed_ += size;
    if (error_)
        std::rethrow_exception(error_);
    if (status == XML_STATUS_OK && fed_ - last_event_ > max_tag_bytes)
        throw ImportError("the .xlsx file is refused: " + part_ +
                          " has markup (a tag, comment or processing instruction) longer than 1 MB");
    if (status != XML_STATUS_OK)
        throw ImportError("the .xlsx file is corrupt: " + part_ + " is not well-formed XML (" +
                          XML_ErrorString(XML_GetErrorCode(p)) + " at line " +
                          std::to_string(XML_GetCurrentLineNumber(p)) + ")");
}

void XmlStream::event()
{
    XML_Index at = XML_GetCurrentByteIndex(static_cast<XML_Parser>(parser_));
    if (at >= 0)
        last_event_ = std::size_t(at);
}

// Handler exceptions must not unwind through expat's C frames: they are caught here and rethrown later.
void XmlStream::on_start(void *self, const char *name, const char **attrs)
{
    auto *s = static_cast<XmlStream *>(self);
    if (s->error_)
        return;
    s->event();
    try {
        if (++s->depth_ > s->max_depth_)
            throw LimitExceeded(Limit::xml_depth, s->max_depth_);
        s->handler_.start(local(name), attrs);
    } catch (...) {
        s->fail(std::current_exception());
    }
}

void XmlStream::on_end(void *self, const char *name)
{
    auto *s = static_cast<XmlStream *>(self);
    if (s->error_)
        return;
    s->event();
    --s->depth_;
    try {
        s->handler_.end(local(name));
    } catch (...) {
        s->fail(std::current_exception());
    }
}

void XmlStream::on_text(void *self, const char *data, int len)
{
    auto *s = static_cast<XmlStream *>(self);
    if (s->error_)
        return;
    s->event();
    try {
        s->handler_.text(std::string_view(data, std::size_t(len)));
    } catch (...) {
        s->fail(std::current_exception());
    }
}

// Everything else expat reads (comments, whitespace outside the root, the XML declaration) is
// only noted as read.
void XmlStream::on_other(void *self, const char *, int)
{
    static_cast<XmlStream *>(self)->event();
}

// A DOCTYPE could declare entities (XXE, billion laughs): no spreadsheet needs one, so it is refused.
void XmlStream::on_doctype(void *self, const char *, const char *, const char *, int)
{
    auto *s = static_cast<XmlStream *>(self);
    s->fail(std::make_exception_ptr(ImportError("the .xlsx file is refused: " + s->part_ +
                                                " has a DOCTYPE (DTDs and entities are not allowed)")));
}

} // namespace clinres::import
