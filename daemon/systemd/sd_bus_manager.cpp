#include "systemd/sd_bus_manager.hpp"

#include <fcntl.h>
#include <poll.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "systemd/scope_properties.hpp"

namespace jaild::systemd {

namespace asio = boost::asio;

namespace {

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kInterface = "org.freedesktop.systemd1.Manager";
constexpr std::uint64_t kCallTimeoutUsec = 25'000'000;
constexpr std::size_t kMaxFinishedKept = 64;

std::string errno_text(int negative_errno) {
    return std::strerror(-negative_errno);
}

struct MessageUnref {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

int append_property(sd_bus_message* m, const Property& p) {
    const char* name = p.name.c_str();
    if (auto* s = std::get_if<std::string>(&p.value))
        return sd_bus_message_append(m, "(sv)", name, "s", s->c_str());
    if (auto* n = std::get_if<std::uint64_t>(&p.value))
        return sd_bus_message_append(m, "(sv)", name, "t", *n);
    if (auto* b = std::get_if<bool>(&p.value))
        return sd_bus_message_append(m, "(sv)", name, "b", static_cast<int>(*b));
    int r = sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0) r = sd_bus_message_append(m, "s", name);
    if (auto* strings = std::get_if<std::vector<std::string>>(&p.value)) {
        if (r >= 0) r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0) r = sd_bus_message_open_container(m, 'a', "s");
        for (const auto& s : *strings)
            if (r >= 0) r = sd_bus_message_append(m, "s", s.c_str());
    } else {
        const auto& numbers = std::get<std::vector<std::uint32_t>>(p.value);
        if (r >= 0) r = sd_bus_message_open_container(m, 'v', "au");
        if (r >= 0)
            r = sd_bus_message_append_array(m, 'u', numbers.data(),
                                            numbers.size() * sizeof(std::uint32_t));
    }
    if (r >= 0 && !std::holds_alternative<std::vector<std::uint32_t>>(p.value))
        r = sd_bus_message_close_container(m);          // the array of strings
    if (r >= 0) r = sd_bus_message_close_container(m);  // the variant
    if (r >= 0) r = sd_bus_message_close_container(m);  // the struct
    return r;
}

int append_properties(sd_bus_message* m, const std::vector<Property>& properties) {
    int r = sd_bus_message_open_container(m, 'a', "(sv)");
    for (const auto& p : properties)
        if (r >= 0) r = append_property(m, p);
    if (r >= 0) r = sd_bus_message_close_container(m);
    return r;
}

}  // namespace

bool systemd_is_pid1() {
    return sd_booted() > 0;
}

struct SdBusManager::Impl : std::enable_shared_from_this<Impl> {
    struct Call {
        Impl* self = nullptr;
        std::uint64_t id = 0;
        std::string unit;
        Done done;
        std::optional<ScopeRequest> start;  // a start (resent without OOMPolicy if refused)
    };
    struct Job {
        std::string unit;
        Done done;
        std::unique_ptr<asio::steady_timer> deadline;
    };

    explicit Impl(asio::io_context& context) : io(context), timer(context) {}
    ~Impl() { disconnect("jaild is exiting"); }

    asio::io_context& io;
    sd_bus* bus = nullptr;
    std::unique_ptr<asio::posix::stream_descriptor> watch;
    asio::steady_timer timer;
    bool with_oom_policy = true;
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, std::unique_ptr<Call>> calls;
    std::map<std::string, Job> jobs;                   // job object path -> who waits
    std::map<std::string, std::string> finished_jobs;  // removed before their start's reply

    void post(Done done, Result<void> result) {
        asio::post(io, [done = std::move(done), result = std::move(result)] { done(result); });
    }

    Result<void> connect() {
        if (bus) return {};
        sd_bus* b = nullptr;
        int r = sd_bus_open_system(&b);
        if (r < 0) return make_error("cannot connect to the system bus: " + errno_text(r));
        // JobRemoved reaches only subscribers (and, on some versions, the job's creator).
        r = sd_bus_match_signal(b, nullptr, kDestination, kPath, kInterface, "JobRemoved",
                                &Impl::on_job_removed, this);
        if (r >= 0)
            r = sd_bus_call_method_async(b, nullptr, kDestination, kPath, kInterface, "Subscribe",
                                         nullptr, nullptr, "");
        const int fd = r >= 0 ? ::fcntl(sd_bus_get_fd(b), F_DUPFD_CLOEXEC, 3) : -1;
        if (r < 0 || fd < 0) {
            sd_bus_flush_close_unref(b);
            return make_error("cannot watch systemd's JobRemoved signal on the system bus: " +
                              errno_text(r < 0 ? r : -errno));
        }
        bus = b;
        watch = std::make_unique<asio::posix::stream_descriptor>(io, fd);
        arm();
        return {};
    }

    void disconnect(const std::string& why) {
        if (!bus) return;
        watch.reset();
        timer.cancel();
        sd_bus_flush_close_unref(bus);
        bus = nullptr;
        auto pending_calls = std::move(calls);
        auto pending_jobs = std::move(jobs);
        for (auto& [id, call] : pending_calls)
            post(std::move(call->done), make_error(call->unit + ": " + why));
        for (auto& [path, job] : pending_jobs)
            post(std::move(job.done), make_error(job.unit + ": " + why));
    }

    // Waits for what the bus wants next: readable, writable, its timeout.
    void arm() {
        if (!bus) return;
        watch->cancel();
        timer.cancel();
        const int events = sd_bus_get_events(bus);
        if (events < 0) return disconnect("the system bus connection broke: " + errno_text(events));
        std::weak_ptr<Impl> weak = weak_from_this();
        auto handler = [weak](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (self && !ec) self->pump();
        };
        if (events & POLLIN) watch->async_wait(asio::posix::stream_descriptor::wait_read, handler);
        if (events & POLLOUT)
            watch->async_wait(asio::posix::stream_descriptor::wait_write, handler);
        std::uint64_t until = 0;
        if (sd_bus_get_timeout(bus, &until) > 0 && until != UINT64_MAX) {
            timespec now{};
            ::clock_gettime(CLOCK_MONOTONIC, &now);
            const auto now_us = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
                                static_cast<std::uint64_t>(now.tv_nsec) / 1000;
            timer.expires_after(std::chrono::microseconds(
                static_cast<std::int64_t>(until > now_us ? until - now_us : 0)));
            timer.async_wait(handler);
        }
    }

    // A bounded batch per turn of the loop; more is due at once through the timeout (0).
    void pump() {
        auto keep = shared_from_this();  // callbacks may drop the last other reference
        for (int i = 0; bus && i < 64; ++i) {
            int r = sd_bus_process(bus, nullptr);
            if (r < 0) return disconnect("the system bus connection broke: " + errno_text(r));
            if (r == 0) break;
        }
        arm();
    }

    Call* new_call(std::string unit, Done done) {
        auto call = std::make_unique<Call>();
        call->self = this;
        call->id = next_id++;
        call->unit = std::move(unit);
        call->done = std::move(done);
        auto* raw = call.get();
        calls.emplace(raw->id, std::move(call));
        return raw;
    }

    void send(Message m, Call* call, sd_bus_message_handler_t handler, const char* what) {
        int r = sd_bus_call_async(bus, nullptr, m.get(), handler, call, kCallTimeoutUsec);
        if (r < 0) {
            auto node = calls.extract(call->id);
            post(std::move(node.mapped()->done),
                 make_error(std::string(what) + " of " + node.mapped()->unit + ": " +
                            errno_text(r)));
            return;
        }
        arm();
    }

    void start(const ScopeRequest& request, Done done) {
        if (auto c = connect(); !c) return post(std::move(done), c.error());
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus, &raw, kDestination, kPath, kInterface,
                                               "StartTransientUnit");
        Message m(raw);
        if (r >= 0) r = sd_bus_message_append(m.get(), "ss", request.unit.c_str(), "fail");
        if (r >= 0) r = append_properties(m.get(), scope_properties(request, with_oom_policy));
        if (r >= 0) r = sd_bus_message_append(m.get(), "a(sa(sv))", 0);
        if (r < 0) {
            return post(std::move(done), make_error("cannot build StartTransientUnit of " +
                                                    request.unit + ": " + errno_text(r)));
        }
        auto* call = new_call(request.unit, std::move(done));
        call->start = request;
        send(std::move(m), call, &Impl::on_start_reply, "StartTransientUnit");
    }

    void set_limits(const std::string& unit, const config::CgroupLimits& limits, Done done) {
        if (auto c = connect(); !c) return post(std::move(done), c.error());
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus, &raw, kDestination, kPath, kInterface,
                                               "SetUnitProperties");
        Message m(raw);
        if (r >= 0) r = sd_bus_message_append(m.get(), "sb", unit.c_str(), 1);
        if (r >= 0) r = append_properties(m.get(), limit_properties(limits));
        if (r < 0) {
            return post(std::move(done), make_error("cannot build SetUnitProperties of " + unit +
                                                    ": " + errno_text(r)));
        }
        send(std::move(m), new_call(unit, std::move(done)), &Impl::on_plain_reply,
             "SetUnitProperties");
    }

    void attach(const std::string& unit, int pid, Done done) {
        if (auto c = connect(); !c) return post(std::move(done), c.error());
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus, &raw, kDestination, kPath, kInterface,
                                               "AttachProcessesToUnit");
        Message m(raw);
        if (r >= 0) r = sd_bus_message_append(m.get(), "ss", unit.c_str(), "");
        if (r >= 0) r = sd_bus_message_append(m.get(), "au", 1, static_cast<std::uint32_t>(pid));
        if (r < 0) {
            return post(std::move(done), make_error("cannot build AttachProcessesToUnit of " +
                                                    unit + ": " + errno_text(r)));
        }
        send(std::move(m), new_call(unit, std::move(done)), &Impl::on_attach_reply,
             "AttachProcessesToUnit");
    }

    // The call's entry, taken out of `calls`; nullptr if it was failed meanwhile.
    static std::unique_ptr<Call> take(void* userdata) {
        auto* call = static_cast<Call*>(userdata);
        auto it = call->self->calls.find(call->id);
        if (it == call->self->calls.end()) return nullptr;
        auto owned = std::move(it->second);
        call->self->calls.erase(it);
        return owned;
    }

    static std::string error_of(sd_bus_message* reply) {
        const sd_bus_error* e = sd_bus_message_get_error(reply);
        if (!e) return "unknown error";
        return std::string(e->message ? e->message : "") + " (" + (e->name ? e->name : "") + ")";
    }

    static int on_plain_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
        auto call = take(userdata);
        if (!call) return 0;
        Impl* self = call->self;
        if (sd_bus_message_is_method_error(reply, nullptr)) {
            self->post(std::move(call->done), make_error("systemd refused to change " + call->unit +
                                                         ": " + error_of(reply)));
        } else {
            self->post(std::move(call->done), Result<void>());
        }
        return 0;
    }

    static int on_attach_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
        auto call = take(userdata);
        if (!call) return 0;
        Impl* self = call->self;
        if (sd_bus_message_is_method_error(reply, nullptr)) {
            self->post(std::move(call->done), make_error("systemd refused to move it into " +
                                                         call->unit + ": " + error_of(reply)));
        } else {
            self->post(std::move(call->done), Result<void>());
        }
        return 0;
    }

    static int on_start_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
        auto call = take(userdata);
        if (!call) return 0;
        Impl* self = call->self;
        if (sd_bus_message_is_method_error(reply, nullptr)) {
            auto why = error_of(reply);
            // A systemd without OOMPolicy= for scopes (older than Debian 12's) never stops
            // one for an OOM kill: without it, the same.
            if (self->with_oom_policy && why.find("OOMPolicy") != std::string::npos) {
                self->with_oom_policy = false;
                self->start(*call->start, std::move(call->done));
                return 0;
            }
            self->post(std::move(call->done),
                       make_error("systemd refused to start " + call->unit + ": " + why));
            return 0;
        }
        const char* path = nullptr;
        if (int r = sd_bus_message_read(reply, "o", &path); r < 0 || !path) {
            self->post(std::move(call->done),
                       make_error("cannot read the job of " + call->unit +
                                  " from systemd's reply: " + errno_text(r < 0 ? r : -EBADMSG)));
            return 0;
        }
        if (auto done = self->finished_jobs.extract(path)) {
            self->job_done(call->unit, done.mapped(), std::move(call->done));
            return 0;
        }
        self->wait_for_job(path, call->unit, std::move(call->done));
        return 0;
    }

    void wait_for_job(const std::string& path, const std::string& unit, Done done) {
        Job job{unit, std::move(done), std::make_unique<asio::steady_timer>(io)};
        std::weak_ptr<Impl> weak = weak_from_this();
        job.deadline->expires_after(kJobTimeout);
        job.deadline->async_wait([weak, path](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec) return;
            auto node = self->jobs.extract(path);
            if (!node) return;
            self->post(std::move(node.mapped().done),
                       make_error("systemd did not finish the start job of " + node.mapped().unit +
                                  " within " + std::to_string(kJobTimeout.count()) + " s"));
        });
        jobs.emplace(path, std::move(job));
    }

    void job_done(const std::string& unit, const std::string& result, Done done) {
        if (result == "done") return post(std::move(done), Result<void>());
        post(std::move(done), make_error("the start job of " + unit + " ended with result '" +
                                         result + "'; see: journalctl -u " + unit));
    }

    static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
        auto* self = static_cast<Impl*>(userdata);
        std::uint32_t id = 0;
        const char *path = nullptr, *unit = nullptr, *result = nullptr;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0) return 0;
        if (auto node = self->jobs.extract(path)) {
            node.mapped().deadline->cancel();
            self->job_done(unit, result, std::move(node.mapped().done));
            return 0;
        }
        // Possibly ours, its reply still to come: kept a while, a few.
        if (std::string_view(unit).rfind("jaild-", 0) == 0) {
            if (self->finished_jobs.size() >= kMaxFinishedKept) self->finished_jobs.clear();
            self->finished_jobs[path] = result;
        }
        return 0;
    }
};

SdBusManager::SdBusManager(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

SdBusManager::~SdBusManager() = default;

void SdBusManager::start_scope(const ScopeRequest& request, Done done) {
    impl_->start(request, std::move(done));
}

void SdBusManager::set_limits(const std::string& unit, const config::CgroupLimits& limits,
                              Done done) {
    impl_->set_limits(unit, limits, std::move(done));
}

void SdBusManager::attach_process(const std::string& unit, int pid, Done done) {
    impl_->attach(unit, pid, std::move(done));
}

}  // namespace jaild::systemd
