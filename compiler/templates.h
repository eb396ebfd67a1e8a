/* templates.h — the kernel templates of templates/c/, embedded into the compiler at build time
 * (compiler/embed_templates.cmake) and pasted into generated code in this order. */
#ifndef HN_TEMPLATES_H
#define HN_TEMPLATES_H

typedef struct hn_template {
    const char *file;           /* e.g. "linear.h" */
    const char *text;
} hn_template;

extern const hn_template hn_c_templates[];
extern const int hn_num_c_templates;
/* The backward kernels (templates/c/backward_*.h), pasted after hn_c_templates in NAME_train.c. */
extern const hn_template hn_c_train_templates[];
extern const int hn_c_train_templates_count;

#endif
