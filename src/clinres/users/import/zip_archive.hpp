// A zip archive read from memory with minizip, inflating entries in chunks under the limits.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "clinres/users/import/errors.hpp"

namespace clinres::import {

namespace detail {
// The zip bytes and minizip's read position in them.
struct MemFile {
    std::string_view data;
    std::size_t pos = 0;
};
} // namespace detail

class ZipArchive {
public:
    // Opens the zip held in data (which must outlive the archive); ImportError if it is not one.
    ZipArchive(std::string_view data, const Limits &limits);
    ~ZipArchive();
    ZipArchive(const ZipArchive &) = delete;
    ZipArchive &operator=(const ZipArchive &) = delete;

    // True if the archive holds an entry of this exact name.
    bool has(const std::string &name);

    // Inflates the named entry, passing it chunk by chunk; ImportError if missing or corrupt.
    void read(const std::string &name, const std::function<void(std::string_view)> &chunk);

private:
    detail::MemFile buffer_;
    void *zip_ = nullptr;
    std::size_t max_inflated_;
    std::size_t inflated_ = 0;
};

} // namespace clinres::import
