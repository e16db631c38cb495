// The confirm class: confirm.select.
#include "handlers.hpp"

namespace warren::emulator {

Status confirm_select(ChannelState& ch) {
    if (ch.tx)
        return AmqpError::make(ReplyCode::PreconditionFailed, method::confirm_select,
                               "cannot switch from tx to confirm mode");
    ch.confirm_mode = true;
    return {};
}

}  // namespace warren::emulator
