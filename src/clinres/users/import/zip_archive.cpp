#include "clinres/users/import/zip_archive.hpp"

#include <minizip/unzip.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace clinres::import {

namespace {

using detail::MemFile;

// minizip "opens" the buffer given as the file name.
voidpf ZCALLBACK mem_open(voidpf opaque, const void *, int mode)
{
    return (mode & ZLIB_FILEFUNC_MODE_WRITE) ? nullptr : opaque;
}

// Copies up to size bytes from the current position.
uLong ZCALLBACK mem_read(voidpf, voidpf stream, void *buf, uLong size)
{
    auto *f = static_cast<MemFile *>(stream);
    std::size_t n = std::min<std::size_t>(size, f->data.size() - f->pos);
    std::memcpy(buf, f->data.data() + f->pos, n);
    f->pos += n;
    return uLong(n);
}

// The buffer is read-only.
uLong ZCALLBACK mem_write(voidpf, voidpf, const void *, uLong)
{
    return 0;
}

// The current position.
ZPOS64_T ZCALLBACK mem_tell(voidpf, voidpf stream)
{
    return static_cast<MemFile *>(stream)->pos;
}

// Moves the position; -1 when it would leave the buffer.
long ZCALLBACK mem_seek(voidpf, voidpf stream, ZPOS64_T offset, int origin)
{
    auto *f = static_cast<MemFile *>(stream);
    ZPOS64_T base = origin == ZLIB_FILEFUNC_SEEK_SET   ? 0
                    : origin == ZLIB_FILEFUNC_SEEK_CUR ? f->pos
                                                       : f->data.size();
    if (offset > f->data.size() || base + offset > f->data.size())
        return -1;
    f->pos = std::size_t(base + offset);
    return 0;
}

// Nothing to release: the archive owns the buffer.
int ZCALLBACK mem_close(voidpf, voidpf)
{
    return 0;
}

// A memory buffer never has an I/O error.
int ZCALLBACK mem_error(voidpf, voidpf)
{
    return 0;
}

} // namespace

ZipArchive::ZipArchive(std::string_view data, const Limits &limits)
    : buffer_{data, 0}, max_inflated_(limits.uncompressed_bytes)
{
    if (data.size() > limits.file_bytes)
        throw LimitExceeded(Limit::file_bytes, limits.file_bytes);
    zlib_filefunc64_def funcs{mem_open, mem_read,  mem_write, mem_tell,
                              mem_seek, mem_close, mem_error, &buffer_};
    zip_ = unzOpen2_64("memory", &funcs);
    if (!zip_)
        throw ImportError("the file is not a valid .xlsx (zip) file: it is corrupt or truncated");
}

ZipArchive::~ZipArchive()
{
    if (zip_)
        unzClose(zip_);
}

bool ZipArchive::has(const std::string &name)
{
    return unzLocateFile(zip_, name.c_str(), 1) == UNZ_OK;
}

void ZipArchive::read(const std::string &name, const std::function<void(std::string_view)> &chunk)
{
    if (!has(name))
        throw ImportError("the .xlsx file has no part " + excerpt(name));
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(zip_, &info, nullptr, 0, nullptr, 0, nullptr, 0) != UNZ_OK)
        throw ImportError("the .xlsx file is corrupt (entry " + excerpt(name) + ")");
    if (info.flag & 1)
        throw ImportError("the .xlsx file is encrypted; save it without a password");
    if (info.uncompressed_size > max_inflated_ - inflated_)
        throw LimitExceeded(Limit::uncompressed_bytes, max_inflated_);
    if (unzOpenCurrentFile(zip_) != UNZ_OK)
        throw ImportError("the .xlsx file is corrupt (entry " + excerpt(name) + ")");
    struct Closer {
        void *zip;
        ~Closer()
        {
            if (zip)
                unzCloseCurrentFile(zip);
        }
    } closer{zip_};
    std::vector<char> buf(64 * 1024);
    for (;;) {
        int n = unzReadCurrentFile(zip_, buf.data(), unsigned(buf.size()));
        if (n < 0)
            throw ImportError("the .xlsx file is corrupt or truncated (entry " + excerpt(name) + ")");
        if (n == 0)
            break;
        if (std::size_t(n) > max_inflated_ - inflated_)
            throw LimitExceeded(Limit::uncompressed_bytes, max_inflated_);
        inflated_ += std::size_t(n);
        chunk(std::string_view(buf.data(), std::size_t(n)));
    }
    closer.zip = nullptr;
    if (unzCloseCurrentFile(zip_) != UNZ_OK)
        throw ImportError("the .xlsx file is corrupt (checksum of entry " + excerpt(name) + ")");
}

} // namespace clinres::import
