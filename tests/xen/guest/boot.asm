; hvmdm end-to-end test guest: one 512-byte boot program, assembled with
; nasm by tests/xen/lib/guest.sh in two variants.
;
;   nasm -f bin -DBANNER='"..."' [-DCHECKSUM -DLBAS='0,1,...'] [-DRTT] boot.asm
;
; Every variant prints BANNER to COM1 (0x3F8, read by dom0 through the pty
; libxl publishes) and to port 0xE9 (Xen prints it as "(dN) ..." on its
; console), then waits for the ACPI power button and enters S5.
;
; CHECKSUM: before waiting, read each sector listed in LBAS through
; INT 13h AH=42h (EDD extended read) from the boot drive and print
; "SUM bbbbaaaa": a Fletcher-style pair of 16-bit one's-complement sums
; over all the sectors' little-endian words, in LBAS order (a = sum of
; words, b = sum of the running a). tests/xen/lib/guest.sh computes the
; same value from the image on the host.
;
;
; RTT: before waiting, time RTT_READS reads of COM1's scratch register (a
; device-model round trip each: the guest traps to Xen, Xen hands the ioreq
; to the device model and waits for the answer) with the TSC, and the TSC
; over 4 BIOS timer ticks (IRQ 0, 65536 / 1193182 s each) to calibrate it.
; Prints "RTT <loop TSC> <4-tick TSC>" (16 hex digits each); dom0 divides.
; "RTT BAD" if a read did not return what was written. Then as many reads
; of PM1a_STS, which Xen emulates itself (no device model), as
; "XRTT <loop TSC>": the part of a round trip that is not the device
; model's.
;
; Power-off path (what an ACPI OS does, without an AML interpreter):
; "xl shutdown -F" / "xl trigger power" make Xen set PWRBTN_STS (bit 8) in
; PM1a_STS at 0xB000 (emulated by Xen once hvmloader has moved the ACPI
; ports there, HVM_PARAM_ACPI_IOPORTS_LOCATION = 1). The program polls it
; once per timer tick, then writes SLP_EN (bit 13) with SLP_TYP 0 (Xen's
; DSDT: \_S5 = {0, 0}) to PM1a_CNT at 0xB004, which the device model's
; PIIX4 PM function decodes (ACPI 1.0b section 4.7.3.2.1 PM1 control).

        cpu 386
        bits 16
        org 0x7c00

%ifndef BANNER
%define BANNER "HVMDM-TEST booted"
%endif

COM1            equ 0x3f8       ; 16550 base (THR/DLL)
COM1_IER        equ COM1 + 1    ; interrupt enable / DLM
COM1_FCR        equ COM1 + 2    ; FIFO control
COM1_LCR        equ COM1 + 3    ; line control, bit 7 DLAB
COM1_MCR        equ COM1 + 4    ; modem control
COM1_LSR        equ COM1 + 5    ; line status, bit 5 THRE
DEBUG_PORT      equ 0xe9        ; Xen HVM debug console
PM1A_STS        equ 0xb000      ; FADT PM1a_EVT_BLK (Xen)
PM1A_CNT        equ 0xb004      ; FADT PM1a_CNT_BLK (device model)
PWRBTN_STS      equ 0x0100
SLP_EN_S5       equ 0x2000      ; SLP_EN | SLP_TYP 0
SECTOR_BUF      equ 0x8000
BIOS_TICKS      equ 0x46c       ; 0040:006C, IRQ 0 tick count
TX_TRIES        equ 100         ; bounded THRE wait: a broken UART must
                                ; not stop the program

start:
        jmp     0:entry         ; CS = 0: El Torito loads at 07C0:0000
entry:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 0x7c00
        sti
        cld
        mov     [boot_drive], dl
        ; SeaBIOS's serial console (sercon) holds the last character and
        ; the cursor move of its INT 10h output ("Booting from Hard
        ; Disk...", CR LF) and sends them on its next timer tick; our
        ; first byte to COM1 must not overtake them.
        call    tick_edge
        call    uart_init
        mov     si, msg_banner
        call    puts
%ifdef CHECKSUM
        call    checksum
%endif
%ifdef RTT
        call    round_trip
%endif
        mov     si, msg_ready
        call    puts

wait_button:
        mov     dx, PM1A_STS
        in      ax, dx
        cmp     ax, 0xffff      ; nothing decodes the port
        je      .tick
        test    ax, PWRBTN_STS
        jnz     power_off
.tick:
        hlt                     ; next timer tick
        jmp     wait_button

power_off:
        mov     si, msg_s5
        call    puts
        mov     ax, PWRBTN_STS  ; write 1 to clear
        out     dx, ax
        mov     dx, PM1A_CNT
        mov     ax, SLP_EN_S5
        out     dx, ax
        mov     cx, 91          ; about 5 s of timer ticks
.wait:
        hlt
        loop    .wait
        mov     si, msg_s5_failed
        call    puts
.halt:
        hlt
        jmp     .halt

; 115200 8N1, FIFOs on, no interrupts.
uart_init:
        mov     si, uart_setup
.next:
        lodsw                   ; al = offset from COM1, ah = value
        cmp     al, 0xff
        je      .done
        mov     dx, COM1
        add     dl, al
        mov     al, ah
        out     dx, al
        jmp     .next
.done:
        ret

; Wait for the next BIOS timer tick.
tick_edge:
        mov     eax, [BIOS_TICKS]
.wait:
        hlt
        cmp     eax, [BIOS_TICKS]
        je      .wait
        ret

; Print the NUL-terminated string at ds:si.
puts:
        lodsb
        test    al, al
        jz      .done
        call    putc
        jmp     puts
.done:
        ret

; Print al on COM1 and on the debug port.
putc:
        push    ax
        push    cx
        push    dx
        mov     ah, al
        mov     cx, TX_TRIES
        mov     dx, COM1_LSR
.wait:
        in      al, dx
        test    al, 0x20
        jnz     .ready
        loop    .wait
.ready:
        mov     al, ah
        mov     dx, COM1
        out     dx, al
        cmp     al, 13          ; Xen's debug console wants bare newlines
        je      .done
        out     DEBUG_PORT, al
.done:
        pop     dx
        pop     cx
        pop     ax
        ret

%ifdef CHECKSUM
checksum:
        mov     di, lbas
.sector:
        mov     eax, [di]
        mov     [dap_lba], eax
        mov     word [dap_count], 1
        mov     si, dap
        mov     dl, [boot_drive]
        mov     ah, 0x42
        push    di
        int     0x13
        pop     di
        jc      .error
        call    sum_sector
        add     di, 4
        cmp     di, lbas_end
        jb      .sector
        mov     si, msg_sum
        call    puts
        mov     ax, [sum_b]
        call    puthex
        mov     ax, [sum_a]
        call    puthex
        jmp     .out
.error:
        mov     al, ah
        xor     ah, ah
        push    ax
        mov     si, msg_err
        call    puts
        pop     ax
        call    puthex          ; INT 13h status in the low byte
        mov     si, msg_lba
        call    puts
        mov     ax, [di + 2]
        call    puthex
        mov     ax, [di]
        call    puthex
.out:
        mov     si, msg_crlf
        jmp     puts

; a += word (end-around carry), b += a (end-around carry), per word.
sum_sector:
        mov     si, SECTOR_BUF
        mov     cx, 256
.word:
        lodsw
        add     [sum_a], ax
        adc     word [sum_a], 0
        mov     ax, [sum_a]
        add     [sum_b], ax
        adc     word [sum_b], 0
        loop    .word
        ret

dap:                            ; EDD 3.0 disk address packet
        db      16, 0
dap_count:
        dw      1
        dw      SECTOR_BUF, 0
dap_lba:
        dd      0, 0
sum_a:  dw      0
sum_b:  dw      0
lbas:   dd      LBAS
lbas_end:
msg_sum:
        db      "SUM ", 0
msg_err:
        db      "ERR INT13 ", 0
msg_lba:
        db      " lba ", 0
%endif

; Print ax as four hex digits.
puthex:
        mov     cx, 4
.digit:
        rol     ax, 4
        push    ax
        and     al, 0x0f
        add     al, '0'
        cmp     al, '9'
        jbe     .print
        add     al, 'A' - '9' - 1
.print:
        call    putc
        pop     ax
        loop    .digit
        ret

%ifdef RTT
        cpu 586                 ; rdtsc
RTT_READS       equ 10000
COM1_SCR        equ COM1 + 7    ; scratch register

round_trip:
        mov     dx, COM1_SCR
        mov     al, 0x5a
        out     dx, al
        call    tick_edge
        rdtsc
        mov     [cal], eax
        mov     [cal + 4], edx
        mov     cx, 4
.ticks:
        call    tick_edge
        loop    .ticks
        mov     si, cal
        call    tsc_since
        rdtsc
        mov     [reads], eax
        mov     [reads + 4], edx
        mov     dx, COM1_SCR
        mov     cx, RTT_READS
        xor     bh, bh
.read:
        in      al, dx
        xor     al, 0x5a
        or      bh, al          ; stays 0 while every read is right
        loop    .read
        mov     si, reads
        call    tsc_since
        rdtsc                   ; the same reads of a port Xen emulates
        mov     [xen], eax
        mov     [xen + 4], edx
        mov     dx, PM1A_STS
        mov     cx, RTT_READS
.xen:
        in      ax, dx
        loop    .xen
        mov     si, xen
        call    tsc_since
        mov     si, msg_rtt
        call    puts
        test    bh, bh
        jnz     .bad
        mov     si, reads
        call    putqword
        mov     al, ' '
        call    putc
        mov     si, cal
        call    putqword
        jmp     .out
.bad:
        mov     si, msg_bad
        call    puts
.out:
        mov     si, msg_crlf
        call    puts
        mov     si, msg_xrtt
        call    puts
        mov     si, xen
        call    putqword
        mov     si, msg_crlf
        jmp     puts

; qword [si] = TSC now - qword [si].
tsc_since:
        rdtsc
        sub     eax, [si]
        sbb     edx, [si + 4]
        mov     [si], eax
        mov     [si + 4], edx
        ret

; Print the qword at [si] as 16 hex digits.
putqword:
        add     si, 6
        mov     di, 4
.word:
        mov     ax, [si]
        call    puthex
        sub     si, 2
        dec     di
        jnz     .word
        ret

cal:    dq      0
reads:  dq      0
xen:    dq      0
msg_rtt:
        db      "RTT ", 0
msg_xrtt:
        db      "XRTT ", 0
msg_bad:
        db      "BAD", 0
%endif

uart_setup:                     ; offset, value
        db      1, 0x00         ; IER: no interrupts
        db      3, 0x80         ; LCR: DLAB
        db      0, 0x01         ; DLL: divisor 1 = 115200
        db      1, 0x00         ; DLM
        db      3, 0x03         ; LCR: 8N1
        db      2, 0x07         ; FCR: enable and clear FIFOs
        db      4, 0x0b         ; MCR: DTR, RTS, OUT2
        db      0xff, 0
boot_drive:
        db      0
msg_banner:
        db      BANNER
msg_crlf:
        db      13, 10, 0
msg_ready:
        db      "READY", 13, 10, 0
msg_s5:
        db      "PWRBTN S5", 13, 10, 0
msg_s5_failed:
        db      "S5 FAILED", 13, 10, 0

        times   510 - ($ - $$) db 0
        dw      0xaa55
