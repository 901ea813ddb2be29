#include "systemd/own_job.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace jaild::systemd {

namespace {

struct BusUnref {
    void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
struct Free {
    void operator()(void* p) const { std::free(p); }
};
struct BusError {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    ~BusError() { sd_bus_error_free(&e); }
};

std::string bus_failure(const char* what, int r, const sd_bus_error& e) {
    return std::string(what) + ": " + (e.message ? e.message : std::strerror(-r));
}

}  // namespace

OnTerm on_term(const std::optional<std::string>& job_type) {
    if (!job_type) return OnTerm::stop;
    // "restart" is what `systemctl restart`, `try-restart`, `reload-or-restart` and
    // deb-systemd-invoke restart queue; while the unit stops for it the job keeps that type.
    if (*job_type == "restart" || *job_type == "try-restart") return OnTerm::detach;
    return OnTerm::stop;
}

std::string describe(OnTerm mode, const std::optional<std::string>& job_type) {
    std::string job = !job_type           ? "no answer from systemd"
                      : job_type->empty() ? "no job pending on jaild's unit"
                                          : "a '" + *job_type + "' job is pending";
    return mode == OnTerm::detach
               ? job + ": jaild restarts and leaves every jail running for the next jaild"
               : job + ": stopping every jail";
}

bool running_under_systemd() {
    return sd_booted() > 0 && std::getenv("INVOCATION_ID") != nullptr;
}

Result<std::string> own_job_type(std::chrono::milliseconds timeout) {
    char* raw_unit = nullptr;
    if (int r = sd_pid_get_unit(0, &raw_unit); r < 0)
        return make_error(std::string("sd_pid_get_unit: ") + std::strerror(-r));
    std::unique_ptr<char, Free> unit(raw_unit);
    sd_bus* raw_bus = nullptr;
    if (int r = sd_bus_open_system(&raw_bus); r < 0)
        return make_error(std::string("sd_bus_open_system: ") + std::strerror(-r));
    std::unique_ptr<sd_bus, BusUnref> bus(raw_bus);
    sd_bus_set_method_call_timeout(bus.get(), static_cast<std::uint64_t>(timeout.count()) * 1000);
    char* raw_path = nullptr;
    if (int r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit.get(), &raw_path); r < 0)
        return make_error(std::string("sd_bus_path_encode: ") + std::strerror(-r));
    std::unique_ptr<char, Free> path(raw_path);

    BusError error;
    sd_bus_message* raw_reply = nullptr;
    int r =
        sd_bus_get_property(bus.get(), "org.freedesktop.systemd1", path.get(),
                            "org.freedesktop.systemd1.Unit", "Job", &error.e, &raw_reply, "(uo)");
    if (r < 0) return make_error(bus_failure("reading the Job of jaild's unit", r, error.e));
    std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> reply(raw_reply,
                                                                           sd_bus_message_unref);
    std::uint32_t id = 0;
    const char* job_path = nullptr;
    r = sd_bus_message_read(reply.get(), "(uo)", &id, &job_path);
    if (r < 0) return make_error(std::string("parsing the Job property: ") + std::strerror(-r));
    if (id == 0) return std::string();
    const std::string job(job_path);
    char* type = nullptr;
    BusError error2;
    r = sd_bus_get_property_string(bus.get(), "org.freedesktop.systemd1", job.c_str(),
                                   "org.freedesktop.systemd1.Job", "JobType", &error2.e, &type);
    if (r < 0) return make_error(bus_failure("reading the JobType of jaild's job", r, error2.e));
    std::unique_ptr<char, Free> owned(type);
    return std::string(type);
}

}  // namespace jaild::systemd
