/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/extpager.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_EXTPAGER_GEN_H
#define _LINUX_EXTPAGER_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/extpager.h>
#include <extpager.h>
#include <linux/err.h>

int extpager_nl_pre_doit(const struct genl_split_ops *ops, struct sk_buff *skb,
			 struct genl_info *info);
void
extpager_nl_post_doit(const struct genl_split_ops *ops, struct sk_buff *skb,
		      struct genl_info *info);

int extpager_nl_object_create_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_object_destroy_doit(struct sk_buff *skb,
				    struct genl_info *info);
int extpager_nl_object_get_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_object_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb);
int extpager_nl_ready_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_data_supply_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_data_unavailable_doit(struct sk_buff *skb,
				      struct genl_info *info);
int extpager_nl_data_error_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_unlock_reply_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_return_ack_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_lock_request_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_object_adopt_doit(struct sk_buff *skb, struct genl_info *info);
int extpager_nl_default_pager_set_doit(struct sk_buff *skb,
				       struct genl_info *info);
int extpager_nl_object_create_anon_doit(struct sk_buff *skb,
					struct genl_info *info);
int extpager_nl_channel_open_doit(struct sk_buff *skb, struct genl_info *info);

extern struct genl_family extpager_nl_family;

#endif /* _LINUX_EXTPAGER_GEN_H */
