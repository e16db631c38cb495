// One management API request being answered: the routes of management_api.cpp (reads, auth),
// management_write.cpp (vhosts, users, permissions, exchanges, queues, bindings) and
// management_messages.cpp (publish, get, aliveness test). Private to warren-server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "warren/emulator/broker.hpp"
#include "warren/emulator/detail/broker_methods.hpp"
#include "warren/server/management.hpp"

namespace warren::server::management {

namespace json = boost::json;

HttpResponse json_answer(unsigned status, const json::value& body);
HttpResponse error_answer(unsigned status, std::string_view error, json::value reason);
/// 404 {"error":"Object Not Found","reason":"Not Found"}.
HttpResponse not_found();
HttpResponse not_authorised(std::string_view reason);
HttpResponse no_content(unsigned status = 204);
HttpResponse method_not_allowed(std::string_view allow);
/// 400 {"error":"bad_request","reason":"not_json"}, for a body that is not a JSON object.
HttpResponse not_json();
/// A JSON object body; an empty body is {}. nullopt when it is not a JSON object.
std::optional<json::object> object_body(std::string_view body);
/// The AMQP error's text without its "CODE_NAME - " prefix, as rabbit_mgmt_util shows it.
std::string explanation(const AmqpError& e);
/// "tags": a comma-separated string (trimmed) or a list of strings.
std::vector<std::string> parse_tags(const json::value& tags);
json::array tags_json(const std::vector<std::string>& tags);
/// A path segment as rabbit_mgmt_format:url/2 encodes one (unreserved characters kept).
std::string url_encode(std::string_view s);
/// rabbit_mgmt_format's properties key of a binding.
std::string properties_key(const BindingInfo& b);
/// A binding as /api/bindings lists it.
json::object binding_json(const BindingInfo& b);
/// A query parameter's value ("if-empty=true"), nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

/// An AMQP channel inside the broker, as the user, for one request: what
/// rabbit_mgmt_util:with_channel opens (a direct connection). Closing it (the destructor)
/// requeues what it got and did not acknowledge.
class DirectChannel final : private emulator::ConnectionSink {
public:
    DirectChannel(Broker& broker, std::string_view vhost, std::string_view user);
    ~DirectChannel() override;
    DirectChannel(const DirectChannel&) = delete;
    DirectChannel& operator=(const DirectChannel&) = delete;

    /// Why it could not open (530 when the user may not use the vhost).
    const std::optional<AmqpError>& open_error() const noexcept { return open_error_; }
    detail::BrokerMethods& methods() noexcept { return methods_; }
    emulator::ChannelRef ref() const noexcept { return ref_; }
    /// A mandatory publish came back unrouted.
    bool returned() const noexcept { return returned_; }

private:
    void on_deliver(emulator::ChannelId, const emulator::DeliverEvent&) override {}
    void on_return(emulator::ChannelId, const emulator::ReturnEvent&) override { returned_ = true; }
    void on_confirm(emulator::ChannelId, std::uint64_t, bool, bool) override {}
    void on_consumer_cancelled(emulator::ChannelId, std::string_view) override {}
    void on_connection_closed(const AmqpError&) override { closed_ = true; }
    void on_connection_lost() override { closed_ = true; }

    detail::BrokerMethods methods_;
    emulator::ChannelRef ref_;
    std::optional<AmqpError> open_error_;
    bool closed_ = false;
    bool returned_ = false;
};

class Call {
public:
    Call(Server& server, const HttpRequest& request, UserInfo user, std::vector<std::string> path,
         std::string query);

    HttpResponse run();

private:
    bool administrator() const;
    /// Sees every vhost's objects (administrator, monitoring), or only those of the vhosts it
    /// has permissions in.
    bool sees_all() const;
    bool may_see(std::string_view vhost) const;
    bool may_use(std::string_view vhost) const;
    bool vhost_exists(std::string_view v) const;
    bool is(std::string_view method) const { return request_.method == method; }
    /// The vhost a route names: 404 when it does not exist, 401 when the user may not use it.
    std::optional<HttpResponse> check_vhost(std::string_view vhost, bool missing_is_not_found_error = false) const;

    template <class Info, class ToJson>
    HttpResponse list(const std::vector<Info>& items, ToJson to_json) const {
        json::array out;
        for (const Info& i : items)
            if (may_see(i.vhost)) out.push_back(to_json(i));
        return json_answer(200, out);
    }

    // management_api.cpp: reads
    HttpResponse overview();
    HttpResponse vhosts();
    HttpResponse users();
    HttpResponse permissions();
    HttpResponse exchanges();
    HttpResponse queues();
    HttpResponse bindings();
    HttpResponse definitions();
    HttpResponse connections(std::string_view vhost);
    HttpResponse channels(std::string_view vhost);
    HttpResponse consumers();
    HttpResponse empty_settings();
    json::array consumer_details(std::string_view vhost, std::string_view queue) const;
    json::value queue_json(const QueueInfo& q) const;

    // management_write.cpp
    HttpResponse put_vhost(const std::string& name);
    HttpResponse delete_vhost(const std::string& name);
    HttpResponse put_user(const std::string& name);
    HttpResponse delete_user(const std::string& name);
    HttpResponse put_permissions(const std::string& vhost, const std::string& user);
    HttpResponse delete_permissions(const std::string& vhost, const std::string& user);
    HttpResponse put_exchange(const std::string& vhost, const std::string& name);
    HttpResponse delete_exchange(const std::string& vhost, const std::string& name);
    HttpResponse put_queue(const std::string& vhost, const std::string& name);
    HttpResponse delete_queue(const std::string& vhost, const std::string& name);
    HttpResponse purge_queue(const std::string& vhost, const std::string& name);
    /// /api/bindings/{v}/e/{source}/{q|e}/{destination}[/{props}]
    HttpResponse binding_route();

    // management_messages.cpp
    HttpResponse publish(const std::string& vhost, const std::string& exchange);
    HttpResponse get(const std::string& vhost, const std::string& queue);
    HttpResponse aliveness_test(const std::string& vhost);
    HttpResponse trace_route(const std::string& vhost, const std::string& exchange);

    Server& server_;
    Broker& broker_;
    const HttpRequest& request_;
    UserInfo user_;
    std::vector<std::string> path_;
    std::string query_;
};

}  // namespace warren::server::management
