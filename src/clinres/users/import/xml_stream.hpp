// A streaming XML parser (expat) that refuses DTDs and entities and bounds element depth and the
// size of a tag (expat holds a whole tag, attributes and all, in memory before reporting it).
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "clinres/users/import/errors.hpp"

namespace clinres::import {

// Receives the events of one XML part; element and attribute names are local (prefix dropped).
class XmlHandler {
public:
    virtual ~XmlHandler() = default;
    // An element opens; attrs is expat's null-terminated name/value array.
    virtual void start(std::string_view name, const char **attrs) = 0;
    // An element closes.
    virtual void end(std::string_view name) = 0;
    // Character data inside the current element.
    virtual void text(std::string_view data) = 0;
};

// The value of an attribute by local name in expat's array (xmlns declarations skipped), or nullptr.
const char *xml_attr(const char **attrs, std::string_view name);

class XmlStream {
public:
    // Starts parsing part (named in messages) into handler, within limits.
    XmlStream(std::string part, XmlHandler &handler, const Limits &limits);
    ~XmlStream();
    XmlStream(const XmlStream &) = delete;
    XmlStream &operator=(const XmlStream &) = delete;

    // Parses the next chunk of the document; throws ImportError on malformed XML.
    void feed(std::string_view chunk);
    // Ends the document; throws if it is incomplete.
    void finish();
    // Stops parsing with the exception a handler raised, rethrown by feed or finish.
    void fail(std::exception_ptr error);

private:
    void parse(const char *data, std::size_t size, bool last);
    static void on_start(void *self, const char *name, const char **attrs);
    static void on_end(void *self, const char *name);
    static void on_text(void *self, const char *data, int len);
    static void on_doctype(void *self, const char *, const char *, const char *, int);
    static void on_other(void *self, const char *, int);
    void event(); // notes where the event being reported began

    std::string part_;
    XmlHandler &handler_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    std::size_t fed_ = 0;        // bytes of the document given to expat so far
    std::size_t last_event_ = 0; // where the last event reported began
    void *parser_;
    std::exception_ptr error_;
};

} // namespace clinres::import
